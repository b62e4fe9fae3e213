/**
 * Runs one program as the leader of its own process group, without a shell, and ends the WHOLE
 * group on abort, timeout or exit: SIGTERM first, SIGKILL after a grace period, so no grandchild
 * survives — not even one that ignores SIGTERM. Descendants that left the group (setsid) are found
 * by the run's tag and ended with it (stray-processes.ts). Shared by the CLI and Claude Code executors.
 *
 * Why not execa: its kill and forceKillAfterDelay reach the direct child only, not the group.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import { OutputCapture, type CapturedText } from "./output-capture.js";
import type { RunCpuUsage } from "./run-cgroup.js";
import type { TotalsHit } from "./run-totals.js";
import type { RunLimits } from "./run-limits.js";
import type { RunUser } from "./run-as-user.js";
import { RunProcesses } from "./stray-processes.js";
import type { OutputStream } from "../types.js";

export interface RunProcessOptions {
  command: string;
  args: readonly string[];
  cwd: string;
  env: Record<string, string>;
  input?: string;
  signal: AbortSignal;
  killGraceMs: number;
  captureBytes: number;
  /** Called with each decoded chunk, in arrival order. */
  onOutput?: (stream: Exclude<OutputStream, "system">, text: string) => void;
  /** Called with raw stdout bytes (e.g. to parse line-delimited JSON). */
  onStdoutBytes?: (chunk: Buffer) => void;
  /** TASK_CGROUP_ROOT: the run gets a cgroup of its own there (run-cgroup.ts). */
  cgroupRoot?: string;
  /** Resource limits of the run's processes (run-limits.ts). */
  limits?: RunLimits;
  /** TASK_RUN_AS_USER: the account the run's processes have (run-as-user.ts). */
  user?: RunUser | undefined;
}

export interface ProcessResult {
  pid: number | undefined;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The signal aborted before the process ended by itself. */
  aborted: boolean;
  stdout: CapturedText;
  stderr: CapturedText;
  durationMs: number;
  /** Set when the program could not be started at all. */
  spawnError?: NodeJS.ErrnoException;
  /** CPU its processes used, descendants included: known with a cgroup per run only. */
  cpu?: RunCpuUsage;
  /** What the run's totals (processes, totalMemoryMb) stopped, when it had any. */
  totalsHit?: TotalsHit;
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** True while any non-zombie process remains in the group (a zombie waits only for its reaper). */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  if (!existsSync("/proc/self/stat")) return true;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited while we looked
    }
    // Fields after "(comm)": state ppid pgrp ...
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[2] === String(pgid) && fields[0] !== "Z") return true;
  }
  return false;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** SIGTERM the group, SIGKILL it after the grace period, and wait until it is gone (bounded). */
async function endGroup(pgid: number, graceMs: number, termSent: boolean): Promise<void> {
  if (!groupAlive(pgid)) return;
  if (!termSent) killGroup(pgid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && groupAlive(pgid)) await sleep(25);
  if (!groupAlive(pgid)) return;
  killGroup(pgid, "SIGKILL");
  const killDeadline = Date.now() + 2000;
  while (Date.now() < killDeadline && groupAlive(pgid)) await sleep(10);
}

export function runProcess(options: RunProcessOptions): Promise<ProcessResult> {
  const started = performance.now();
  const stdout = new OutputCapture(options.captureBytes);
  const stderr = new OutputCapture(options.captureBytes);
  const decoders = { stdout: new StringDecoder("utf8"), stderr: new StringDecoder("utf8") };

  return new Promise<ProcessResult>((resolve) => {
    let aborted = false;
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    let termSent = false;
    const strays = new RunProcesses({ cgroupRoot: options.cgroupRoot, limits: options.limits, user: options.user });
    const env = { ...options.env, ...strays.environment() };
    const launch = strays.launch(options.command, options.args, env, options.cwd);
    if ("error" in launch) {
      resolve({ pid: undefined, exitCode: null, signal: null, aborted: false, stdout: stdout.result(), stderr: stderr.result(), durationMs: 0, spawnError: launch.error });
      return;
    }

    const child = spawn(launch.command, launch.args, {
      cwd: options.cwd,
      env,
      detached: true, // own process group: the group id is the child's pid
      shell: false,
      stdio: ["pipe", "pipe", "pipe"],
      windowsHide: true,
    });
    const pid = child.pid;
    strays.started(pid);

    // The group first, then the strays found before it (see RunProcesses.signalEach).
    const signalAll = (pgid: number, signal: NodeJS.Signals) => {
      const found = strays.find();
      killGroup(pgid, signal);
      strays.signalEach(found, signal);
    };
    const stopGroup = () => {
      if (pid === undefined) return;
      signalAll(pid, "SIGTERM");
      termSent = true;
      if (killTimer) return;
      killTimer = setTimeout(() => signalAll(pid, "SIGKILL"), options.killGraceMs);
      killTimer.unref();
    };

    const onAbort = () => {
      aborted = true;
      stopGroup();
    };
    if (options.signal.aborted) onAbort();
    else options.signal.addEventListener("abort", onAbort, { once: true });

    const finish = (exitCode: number | null, signal: NodeJS.Signals | null, spawnError?: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      options.signal.removeEventListener("abort", onAbort);
      for (const stream of ["stdout", "stderr"] as const) {
        const rest = decoders[stream].end();
        if (rest) options.onOutput?.(stream, rest);
      }
      const result: ProcessResult = {
        pid,
        exitCode,
        signal,
        aborted,
        stdout: stdout.result(),
        stderr: stderr.result(),
        durationMs: Math.round(performance.now() - started),
      };
      if (spawnError) result.spawnError = spawnError;
      if (strays.cpu) result.cpu = strays.cpu;
      if (strays.totalsHit) result.totalsHit = strays.totalsHit;
      resolve(result);
    };

    const onData = (stream: "stdout" | "stderr", capture: OutputCapture) => (chunk: Buffer) => {
      capture.push(chunk);
      if (stream === "stdout") options.onStdoutBytes?.(chunk);
      const text = decoders[stream].write(chunk);
      if (text) options.onOutput?.(stream, text);
    };
    child.stdout.on("data", onData("stdout", stdout));
    child.stderr.on("data", onData("stderr", stderr));

    child.on("error", (error: NodeJS.ErrnoException) => {
      // Only spawn failures reach here before 'exit' (ENOENT, EACCES); the child never ran.
      if (child.pid === undefined) {
        strays.discard();
        finish(null, null, error);
      }
    });

    // The program closing stdin early (EPIPE) is its business, not a failure of ours.
    child.stdin.on("error", () => undefined);
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();

    let lateClose: NodeJS.Timeout | undefined;
    child.on("exit", () => {
      strays.leaderExited();
      if (pid === undefined) return;
      // The leader is gone; anything it left behind, in its group or not, goes too. Without this a
      // background grandchild would keep the pipes open and 'close' would never come.
      if (groupAlive(pid)) stopGroup();
      // Only a process outside the group can still hold the pipes: look for one (a scan of /proc)
      // when 'close' is late, not after every run.
      else lateClose = setTimeout(() => strays.find().length > 0 && stopGroup(), 50);
    });
    child.on("close", (code, signal) => {
      clearTimeout(lateClose);
      // 'close' can come while a grandchild that let go of the pipes still lives: the task is not
      // over until its whole group is gone.
      const ended = pid === undefined ? Promise.resolve() : endGroup(pid, options.killGraceMs, termSent).then(() => strays.end(options.killGraceMs));
      void ended.then(() => {
        if (killTimer) clearTimeout(killTimer);
        finish(code, signal);
      });
    });
  });
}
