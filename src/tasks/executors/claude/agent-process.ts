/**
 * The `claude` process of one Agent SDK run, spawned by us (the SDK's spawnClaudeCodeProcess hook)
 * rather than by the SDK, so that we know its pid and it leads its own process group: a cancel, a
 * timeout or an api_retry we stop at ends the whole group at once (SIGTERM, SIGKILL after the
 * grace period) instead of after the SDK's stdin-close grace, and the run is only over once the
 * group is gone — its per-run home is removed after that, never under a live process. Processes it
 * started that left the group (setsid) carry the run's tag and end with it (stray-processes.ts).
 */
import { spawn } from "node:child_process";
import type { SpawnedProcess, SpawnOptions } from "@anthropic-ai/claude-agent-sdk";
import { OutputCapture } from "../output-capture.js";
import { groupAlive } from "../run-process.js";
import type { RunCpuUsage } from "../run-cgroup.js";
import type { TotalsHit } from "../run-totals.js";
import type { RunLimits } from "../run-limits.js";
import type { RunUser } from "../run-as-user.js";
import { RunProcesses } from "../stray-processes.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class ClaudeAgentProcess {
  pid: number | undefined;
  spawnError: NodeJS.ErrnoException | undefined;
  exitCode: number | null = null;
  signal: NodeJS.Signals | null = null;
  private readonly stderr: OutputCapture;
  private stopping = false;
  private killTimer: NodeJS.Timeout | undefined;
  private exited = false;
  private readonly strays: RunProcesses;

  constructor(private readonly options: { killGraceMs: number; stderrCapBytes?: number; onStderr?: (text: string) => void; cgroupRoot?: string; limits?: RunLimits; user?: RunUser | undefined }) {
    this.stderr = new OutputCapture(options.stderrCapBytes ?? 64 * 1024);
    this.strays = new RunProcesses({ cgroupRoot: options.cgroupRoot, limits: options.limits, user: options.user });
  }

  /** The SDK's spawnClaudeCodeProcess. */
  readonly spawn = (options: SpawnOptions): SpawnedProcess => {
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.env)) if (value !== undefined) env[name] = value;
    Object.assign(env, this.strays.environment());
    const launch = this.strays.launch(options.command, options.args, env, options.cwd ?? process.cwd());
    // The SDK wants a process either way: one that fails to start, like the program itself would.
    if ("error" in launch) this.spawnError = launch.error;
    const { command, args } = "error" in launch ? { command: "/nonexistent/claude-not-started", args: [] } : launch;
    const child = spawn(command, args, {
      cwd: options.cwd,
      env,
      detached: true, // its own process group: the group id is its pid
      stdio: ["pipe", "pipe", "pipe"],
      windowsHide: true,
    });
    this.pid = child.pid;
    this.strays.started(child.pid);
    child.on("error", (error: NodeJS.ErrnoException) => {
      if (child.pid !== undefined) return;
      this.spawnError ??= error;
      this.strays.discard();
    });
    child.on("exit", (code, signal) => {
      this.exited = true;
      this.strays.leaderExited();
      this.exitCode = code;
      this.signal = signal;
      // Anything the leader left behind, in its group or not, goes with it.
      if (this.pid !== undefined && (groupAlive(this.pid) || this.strays.find().length > 0)) this.stop();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      this.stderr.push(chunk);
      this.options.onStderr?.(chunk.toString("utf8"));
    });
    child.stdin.on("error", () => undefined); // EPIPE after the process ended: its business
    // The SDK aborts this signal after its own stdin-close grace (close(), its abortController).
    options.signal.addEventListener("abort", () => this.stop(), { once: true });
    return child;
  };

  /** CPU the run's processes used, once gone() has returned (known with a cgroup per run only). */
  get cpu(): RunCpuUsage | undefined {
    return this.strays.cpu;
  }

  /** What the run's totals stopped, once gone() has returned (with totals only). */
  get totalsHit(): TotalsHit | undefined {
    return this.strays.totalsHit;
  }

  get started(): boolean {
    return this.pid !== undefined;
  }

  stderrText(): string {
    return this.stderr.result().text;
  }

  /** SIGTERM the group and the run's strays now, SIGKILL them after the grace period. Idempotent. */
  stop(): void {
    if (this.pid === undefined || this.stopping) return;
    this.stopping = true;
    const pgid = this.pid;
    // The group first, then the strays found before it (see RunProcesses.signalEach).
    const signalAll = (signal: NodeJS.Signals) => {
      const found = this.strays.find();
      killGroup(pgid, signal);
      this.strays.signalEach(found, signal);
    };
    signalAll("SIGTERM");
    this.killTimer = setTimeout(() => signalAll("SIGKILL"), this.options.killGraceMs);
    this.killTimer.unref();
  }

  /**
   * Waits until the process group is gone. A process still running after `naturalMs` (it should end
   * by itself once the SDK closed its stdin) is stopped; the wait is bounded either way.
   */
  async gone(naturalMs: number): Promise<void> {
    const pgid = this.pid;
    if (pgid === undefined) return;
    const alive = () => !this.exited || groupAlive(pgid) || this.strays.find().length > 0;
    const natural = Date.now() + naturalMs;
    while (alive() && Date.now() < natural) await sleep(20);
    if (alive()) this.stop();
    const deadline = Date.now() + this.options.killGraceMs + 3000;
    while (alive() && Date.now() < deadline) await sleep(20);
    if (this.killTimer) clearTimeout(this.killTimer);
    await this.strays.end(this.options.killGraceMs); // at once when none is left; removes the run's cgroup
  }
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}
