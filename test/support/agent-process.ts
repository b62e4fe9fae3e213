/** Runs `ph-tasks serve` as a real process in a directory, and the client commands against it. */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import path from "node:path";

const BIN = path.resolve("bin/ph-tasks.js");

export class AgentProcess {
  readonly child: ChildProcess;
  stderr = "";
  stdout = "";
  readonly url: Promise<string>;

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
  }

  async cli(args: string[], env: Record<string, string> = {}) {
    const url = await this.url;
    const result = spawnSync(process.execPath, [BIN, ...args], { cwd: this.cwd, encoding: "utf8", env: { ...process.env, PH_TASKS_URL: url, ...env }, timeout: 60_000 });
    return { stdout: result.stdout, stderr: result.stderr, status: result.status };
  }

  stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    if (this.child.exitCode !== null) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve) => {
      this.child.once("exit", (code) => resolve(code));
      this.child.kill(signal);
    });
  }
}
