/**
 * Processes a task started that left its process group. Killing the group (run-process.ts) ends
 * everything a command starts — unless a descendant called setsid() (a daemon, `setsid`, `nohup
 * setsid`, a double fork): it is then in a session and group of its own, and when its parent exits
 * it is adopted by init, with no link left to the task.
 *
 * Two ways to find such strays, both from /proc (Linux; elsewhere there are none to find and the
 * group kill is all there is):
 * - a tag: every task process gets RUN_TAG_VARIABLE=<random token> in its environment, which its
 *   descendants inherit, whatever session they move to. A process whose environment holds the token
 *   belongs to the run.
 * - the tree: every process whose parent chain leads to the run's leader (while it lives) or to a
 *   tagged process, which covers a descendant that cleared its environment but whose parent is
 *   still there.
 *
 * What still escapes them: a process that both clears its environment (`env -i`) and is orphaned
 * before the run ends. A third way holds those: a cgroup per run (TASK_CGROUP_ROOT, run-cgroup.ts),
 * whose processes are found by the kernel's own list.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { RunCgroup, type RunCpuUsage } from "./run-cgroup.js";
import { confinedLaunch, type RunConfinement } from "./confined-launch.js";
import type { TotalsHit } from "./run-totals.js";

/** The environment variable that marks a run's processes. */
export const RUN_TAG_VARIABLE = "PH_TASK_RUN_TAG";

const hasProc = existsSync("/proc/self/environ");

interface ProcessEntry {
  pid: number;
  ppid: number;
  /** Clock ticks after boot. */
  startTime: number;
}

/** Live (not zombie) processes, with their parent and start time. */
function listProcesses(): ProcessEntry[] {
  const entries: ProcessEntry[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const entry = readStat(Number(name));
    if (entry) entries.push(entry);
  }
  return entries;
}

export function readStat(pid: number): ProcessEntry | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after "(comm)": state(3) ppid(4) ... starttime(22).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z") return undefined;
    return { pid, ppid: Number(fields[1]), startTime: Number(fields[19]) };
  } catch {
    return undefined; // exited while we looked
  }
}

/**
 * "unknown": the environment reads empty. A process in the middle of execve() has no environment
 * to show for a moment (the new image's is not set up yet) — a task's `setsid sleep` caught there
 * would escape — so the caller looks again shortly.
 */
function carriesTag(pid: number, needle: Buffer): "yes" | "no" | "unknown" {
  try {
    const environ = readFileSync(`/proc/${pid}/environ`);
    if (environ.length === 0) return "unknown";
    return environ.includes(needle) ? "yes" : "no";
  } catch {
    return "no"; // gone, or another user's process (not readable, and not ours to kill)
  }
}

/** Kernel threads (children of kthreadd, pid 2) have no environment and are never a task's. */
const isKernelThread = (p: ProcessEntry) => p.pid === 2 || p.ppid === 2;

/** How long end() keeps looking while a process of the run may be between images (see carriesTag). */
const UNCERTAIN_LOOKS = 20;
const UNCERTAIN_LOOK_MS = 5;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The processes of one run. `environment()` goes into the leader's environment before it is
 * spawned, and `launch()` says what to spawn; `started(pid)` once it runs; `leaderExited()` once it
 * is reaped (its pid may then be reused, so it no longer links anything to the run); `end()` or,
 * when nothing was started, `discard()` at the end.
 */
export class RunProcesses {
  /** Unguessable, so a process cannot make another run's processes its own. */
  private readonly tag = randomBytes(12).toString("hex");
  private readonly needle = Buffer.from(`${RUN_TAG_VARIABLE}=${this.tag}\0`);
  private leader: number | undefined;
  /** The leader's start time: nothing older belongs to the run, so its environment is not read. */
  private since = 0;
  /**
   * Processes signalled, with their start times: once the leader is gone an orphan that cleared its
   * environment is no longer found, yet it may still be dying from the signal it got — end() waits
   * for it (and kills it) all the same. The start time tells it from a later process with its pid.
   */
  private readonly signalled = new Map<number, number>();
  /** Processes the last find() could not tell (empty environment: maybe inside execve()). */
  private uncertain = 0;
  private cgroup: RunCgroup | undefined;
  /** What the run's processes used, read as its cgroup is removed (undefined without one). */
  cpu: RunCpuUsage | undefined;
  /** What the run's totals stopped, read then too (undefined without totals). */
  totalsHit: TotalsHit | undefined;

  constructor(private readonly confinement: RunConfinement = {}) {}

  environment(): Record<string, string> {
    return { [RUN_TAG_VARIABLE]: this.tag };
  }

  /**
   * What to spawn for `command`: itself, or wrapped as the run's confinement asks (confined-launch.ts),
   * and — with a cgroup root — in the trampoline that starts it in the run's own cgroup. An error
   * like spawn()'s when that cannot be (no such program, no cgroup, no prlimit or setpriv): a run is
   * never let out less confined than asked.
   */
  launch(command: string, args: readonly string[], env: Record<string, string>, cwd: string): { command: string; args: string[] } | { error: NodeJS.ErrnoException } {
    const { cgroupRoot, limits, user } = this.confinement;
    const wrapped = confinedLaunch(command, args, env, cwd, { limits, user });
    if (cgroupRoot === undefined || "error" in wrapped) return wrapped;
    try {
      this.cgroup ??= RunCgroup.create(cgroupRoot, `ph-run-${this.tag}`, limits);
    } catch (thrown) {
      const error = thrown as NodeJS.ErrnoException;
      error.message = `the run's cgroup could not be made under TASK_CGROUP_ROOT (${cgroupRoot}): ${error.message}`;
      return { error };
    }
    const launch = this.cgroup.launch(wrapped.command, wrapped.args, env, cwd);
    if ("error" in launch) this.discard();
    return launch;
  }

  started(pid: number | undefined): void {
    this.leader = pid;
    this.since = (pid !== undefined && hasProc ? readStat(pid)?.startTime : undefined) ?? 0;
  }

  leaderExited(): void {
    this.leader = undefined;
  }

  /**
   * The run's live processes: tagged, or descended from the leader (while it lives) or from a
   * tagged process. Never this agent itself. Empty where there is no /proc.
   */
  find(): number[] {
    if (!hasProc) return [];
    const processes = listProcesses().filter((p) => p.pid !== process.pid);
    const children = new Map<number, number[]>();
    for (const p of processes) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
    const found = new Set<number>();
    const visit = (pid: number) => {
      if (found.has(pid)) return;
      found.add(pid);
      for (const child of children.get(pid) ?? []) visit(child);
    };
    if (this.leader !== undefined) for (const child of children.get(this.leader) ?? []) visit(child);
    for (const pid of this.cgroup?.pids() ?? []) visit(pid);
    this.uncertain = 0;
    for (const p of processes) {
      if (p.startTime < this.since || found.has(p.pid) || isKernelThread(p)) continue;
      const tagged = carriesTag(p.pid, this.needle);
      if (tagged === "yes") visit(p.pid);
      else if (tagged === "unknown") this.uncertain++;
    }
    return [...found];
  }

  /** Sends `signal` to each of the run's processes; returns how many were signalled. */
  signal(signal: NodeJS.Signals): number {
    return this.signalEach(this.find(), signal);
  }

  /**
   * Signals the processes `find()` returned: found while the leader still links them to the run,
   * signalled after its group, so the leader is ended by the signal itself rather than exiting on
   * its own when a child it waits for dies first.
   */
  signalEach(pids: readonly number[], signal: NodeJS.Signals): number {
    let signalled = 0;
    for (const pid of pids) {
      const start = this.signalled.get(pid) ?? (hasProc ? readStat(pid)?.startTime : undefined);
      if (start !== undefined) this.signalled.set(pid, start);
      try {
        process.kill(pid, signal);
        signalled++;
      } catch {
        // gone already
      }
    }
    return signalled;
  }

  /** The run's processes: found now, or signalled before and still living. */
  private remaining(): number[] {
    const living = [...this.signalled].filter(([pid, start]) => readStat(pid)?.startTime === start).map(([pid]) => pid);
    return [...new Set([...this.find(), ...living])];
  }

  /**
   * SIGTERM, SIGKILL after `graceMs`, then waits (bounded) until none is left; at once when there
   * are none. The run's cgroup, if any, is emptied and removed.
   */
  async end(graceMs: number): Promise<void> {
    await this.endProcesses(graceMs);
    if (!this.cgroup) return;
    const cgroup = this.cgroup;
    const deadline = Date.now() + 2000;
    while (cgroup.populated() && Date.now() < deadline) {
      cgroup.kill();
      await sleep(10);
    }
    this.discard();
  }

  /** Removes the run's cgroup (once empty); for a run that never started, or has ended. */
  discard(): void {
    if (!this.cgroup) return;
    this.cpu = this.cgroup.cpuUsage() ?? this.cpu;
    this.totalsHit = this.cgroup.totalsHit() ?? this.totalsHit;
    if (this.cgroup.remove()) this.cgroup = undefined;
  }

  private async endProcesses(graceMs: number): Promise<void> {
    let found = this.remaining();
    for (let look = 0; found.length === 0 && this.uncertain > 0 && look < UNCERTAIN_LOOKS; look++) {
      await sleep(UNCERTAIN_LOOK_MS);
      found = this.remaining();
    }
    if (this.signalEach(found, "SIGTERM") === 0) return;
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && this.remaining().length > 0) await sleep(25);
    if (this.signalEach(this.remaining(), "SIGKILL") === 0) return;
    const killDeadline = Date.now() + 2000;
    while (Date.now() < killDeadline && this.remaining().length > 0) await sleep(10);
  }
}
