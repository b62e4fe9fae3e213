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
 * What still escapes: a process that both clears its environment (`env -i`) and is orphaned before
 * the run ends. Holding those needs a PID namespace or a cgroup, which Node cannot create without
 * privileges or a native helper.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";

/** The environment variable that marks a run's processes. */
export const RUN_TAG_VARIABLE = "PH_TASK_RUN_TAG";

/** A fresh token for one run: unguessable, so a process cannot make another run's processes its own. */
export function newRunTag(): string {
  return randomBytes(12).toString("hex");
}

const hasProc = existsSync("/proc/self/environ");

interface ProcessEntry {
  pid: number;
  ppid: number;
  zombie: boolean;
}

function listProcesses(): ProcessEntry[] {
  const entries: ProcessEntry[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // Fields after "(comm)": state ppid ...
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      entries.push({ pid: Number(name), ppid: Number(fields[1]), zombie: fields[0] === "Z" });
    } catch {
      // exited while we looked
    }
  }
  return entries;
}

function carriesTag(pid: number, needle: Buffer): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`).includes(needle);
  } catch {
    return false; // gone, or another user's process (not readable, and not ours to kill)
  }
}

/**
 * The live processes of a run: tagged with `tag`, or descended from `leaderPid` or from a tagged
 * process. Never this agent itself. Empty where there is no /proc.
 */
export function findRunProcesses(tag: string, leaderPid: number | undefined): number[] {
  if (!hasProc) return [];
  const needle = Buffer.from(`${RUN_TAG_VARIABLE}=${tag}\0`);
  const processes = listProcesses().filter((p) => !p.zombie && p.pid !== process.pid);
  const children = new Map<number, number[]>();
  for (const p of processes) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const found = new Set<number>();
  const visit = (pid: number) => {
    if (found.has(pid)) return;
    found.add(pid);
    for (const child of children.get(pid) ?? []) visit(child);
  };
  if (leaderPid !== undefined) for (const child of children.get(leaderPid) ?? []) visit(child);
  for (const p of processes) if (carriesTag(p.pid, needle)) visit(p.pid);
  const alive = new Set(processes.map((p) => p.pid));
  return [...found].filter((pid) => alive.has(pid) && pid !== process.pid);
}

/** Sends `signal` to each process of the run; returns how many were signalled. */
export function signalRunProcesses(tag: string, leaderPid: number | undefined, signal: NodeJS.Signals): number {
  let signalled = 0;
  for (const pid of findRunProcesses(tag, leaderPid)) {
    try {
      process.kill(pid, signal);
      signalled++;
    } catch {
      // gone already
    }
  }
  return signalled;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Ends the run's strays: SIGTERM, SIGKILL after `graceMs`, then waits (bounded) until none is left.
 * Resolves at once when there are none.
 */
export async function endRunProcesses(tag: string, leaderPid: number | undefined, graceMs: number): Promise<void> {
  if (findRunProcesses(tag, leaderPid).length === 0) return;
  signalRunProcesses(tag, leaderPid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && findRunProcesses(tag, leaderPid).length > 0) await sleep(25);
  if (signalRunProcesses(tag, leaderPid, "SIGKILL") === 0) return;
  const killDeadline = Date.now() + 2000;
  while (Date.now() < killDeadline && findRunProcesses(tag, leaderPid).length > 0) await sleep(10);
}
