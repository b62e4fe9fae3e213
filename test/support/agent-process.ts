/** Runs `ph-tasks serve` as a real process in a directory, and the client commands against it. */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { request } from "node:http";
import path from "node:path";

/**
 * fetch on a connection of its own, closed after the answer. The client commands run with
 * spawnSync, which blocks this process's event loop for seconds: a pooled keep-alive connection
 * the agent closed meanwhile (idle) is only noticed when fetch reuses it ("other side closed",
 * seen in CI on a loaded machine). Returns a real Response.
 */
export function freshFetch(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? "GET", headers: init.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", reject);
      res.on("end", () => {
        const status = res.statusCode ?? 0;
        const headers = Object.entries(res.headers).flatMap(([key, value]): [string, string][] => (value === undefined ? [] : [[key, Array.isArray(value) ? value.join(", ") : value]]));
        resolve(new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), { status, headers }));
      });
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

const BIN = path.resolve("bin/ph-tasks.js");

export class AgentProcess {
  readonly child: ChildProcess;
  stderr = "";
  stdout = "";
  readonly url: Promise<string>;
  private stopping = false;

  constructor(readonly cwd: string, env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [BIN, "serve"], { cwd, env: { ...process.env, PORT: "0", LOG_LEVEL: "warn", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    this.child.stdout?.on("data", (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.url = new Promise((resolve, reject) => {
      this.child.stderr?.on("data", (chunk: Buffer) => {
        this.stderr += chunk.toString();
        const match = /dashboard (http:\/\/\S+?)\/ /.exec(this.stderr);
        if (match?.[1]) resolve(match[1]);
      });
      this.child.once("exit", (code) => reject(new Error(`agent exited early (${code}): ${this.stderr}`)));
    });
    // An agent that dies under a test says so, with what it printed last (a test only sees its requests fail).
    this.child.once("exit", (code, signal) => {
      if (!this.stopping) console.error(`*** ph-tasks serve in ${cwd} exited (${code ?? signal}) while a test used it; its last output:\n${this.stderr.slice(-4000)}`);
    });
  }

  async cli(args: string[], env: Record<string, string> = {}) {
    const url = await this.url;
    const result = spawnSync(process.execPath, [BIN, ...args], { cwd: this.cwd, encoding: "utf8", env: { ...process.env, PH_TASKS_URL: url, ...env }, timeout: 60_000 });
    return { stdout: result.stdout, stderr: result.stderr, status: result.status };
  }

  /** A client command that runs while this process goes on (cli() blocks it until the command ends). */
  async cliAsync(args: string[], env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string; status: number | null }> {
    const url = await this.url;
    const child = spawn(process.execPath, [BIN, ...args], { cwd: this.cwd, env: { ...process.env, PH_TASKS_URL: url, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const status = await new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
    return { stdout, stderr, status };
  }

  stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    this.stopping = true;
    // Ended already (by itself, or by a signal: then exitCode stays null and no "exit" comes again).
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve) => {
      this.child.once("exit", (code) => resolve(code));
      this.child.kill(signal);
    });
  }
}
