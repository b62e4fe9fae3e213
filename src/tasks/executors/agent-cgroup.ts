/**
 * This agent process's own directory under TASK_CGROUP_ROOT — `agent-<pid>-<start time>` — with its
 * runs' cgroups inside. An agent killed with SIGKILL cannot end its runs: their processes go on, and
 * the retries its tasks get once their leases expire would run beside them. So an agent starting on
 * the machine first ends what a dead one left: each agent directory whose process is gone (no such
 * pid, or the pid now belongs to a process started at another time) gets SIGTERM for every process
 * in it, `cgroup.kill` after the grace period, and is removed. A live agent's directory is left
 * alone, so several agents may share one root.
 */
import { existsSync, mkdirSync, readdirSync, rmdirSync } from "node:fs";
import path from "node:path";
import { RunCgroup } from "./run-cgroup.js";
import { removeV1Mirrors } from "./run-totals.js";
import { readStat } from "./stray-processes.js";

const AGENT_DIR = /^agent-(\d+)-(\d+)$/;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Clock ticks after boot at which `pid` started, or undefined when there is no such process. */
const startTimeOf = (pid: number): string | undefined => readStat(pid)?.startTime.toString();

/** The directory name of the process `pid` (default: this one). */
export function agentCgroupName(pid = process.pid): string {
  return `agent-${pid}-${startTimeOf(pid) ?? "0"}`;
}

/** `dir` and every cgroup below it, deepest first. */
function cgroupsUnder(dir: string): RunCgroup[] {
  const below: RunCgroup[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) below.push(...cgroupsUnder(path.join(dir, entry.name)));
  return [...below, RunCgroup.at(dir)];
}

/** The processes in `dir`'s cgroups (a cgroup's `cgroup.procs` lists its own, not its children's). */
const processesIn = (dir: string): number[] => cgroupsUnder(dir).flatMap((cgroup) => cgroup.pids());

export interface ReapedAgent {
  /** The dead agent's directory. */
  dir: string;
  /** Processes of its runs that were still going. */
  processes: number;
  /** Still populated after the kill (not removed). */
  stuck: boolean;
}

/**
 * Ends and removes what dead agents left under `root` (see the top of this file). Several live
 * agents may reap the same directory at once: what another one removed first is skipped.
 */
export async function reapDeadAgents(root: string, graceMs: number): Promise<ReapedAgent[]> {
  const reaped: ReapedAgent[] = [];
  for (const dir of deadAgentDirs(root)) {
    try {
      reaped.push(await reap(dir, graceMs));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error; // reaped by another agent meanwhile
    }
  }
  return reaped;
}

/** The directories under `root` of agents that are gone. */
function deadAgentDirs(root: string): string[] {
  return readdirSync(root).filter((name) => {
    const match = AGENT_DIR.exec(name);
    return match !== null && startTimeOf(Number(match[1])) !== match[2];
  }).map((name) => path.join(root, name));
}

/** What dead agents left under `root` with processes still going, left as it is (for `ph-tasks doctor`). */
export function deadAgentsLeft(root: string): { dir: string; processes: number }[] {
  return deadAgentDirs(root).map((dir) => ({ dir, processes: processesIn(dir).length })).filter((dead) => dead.processes > 0);
}

async function reap(dir: string, graceMs: number): Promise<ReapedAgent> {
  const pids = processesIn(dir);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // gone
    }
  }
  const top = RunCgroup.at(dir); // "populated" counts its whole subtree
  const deadline = Date.now() + graceMs;
  while (top.populated() && Date.now() < deadline) await sleep(25);
  for (let tries = 0; top.populated() && tries < 100; tries++) {
    for (const cgroup of cgroupsUnder(dir)) cgroup.kill();
    await sleep(20);
  }
  const stuck = top.populated();
  if (!stuck) {
    for (const cgroup of cgroupsUnder(dir)) rmdirSync(cgroup.path);
    removeV1Mirrors(dir); // its runs' totals, where they are v1 cgroups
  }
  return { dir, processes: pids.length, stuck };
}

/**
 * Reaps every `intervalMs` while this agent runs, so that another agent's death on the machine is
 * dealt with within seconds, not at the next start. Returns the function that stops it.
 */
export function reapPeriodically(root: string, graceMs: number, intervalMs: number, report: (reaped: ReapedAgent[]) => void, onError: (error: unknown) => void): () => Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    running = reapDeadAgents(root, graceMs).then(report, onError).finally(() => {
      if (!stopped) timer = setTimeout(tick, intervalMs).unref();
    });
  };
  timer = setTimeout(tick, intervalMs).unref(); // never what keeps the process alive
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await running;
  };
}

/**
 * This process's directory under `root` (made by its first run when `create` is false); its runs'
 * cgroups go inside. `remove()` at a clean stop, once its runs have ended: a directory still
 * populated is left for the next agent to reap.
 */
export function openAgentCgroup(root: string, create = true): { dir: string; remove: () => void } {
  const dir = path.join(root, agentCgroupName());
  if (create && !existsSync(dir)) mkdirSync(dir);
  return {
    dir,
    remove: () => {
      try {
        rmdirSync(dir);
        removeV1Mirrors(dir);
      } catch {
        // runs still there, or never made, or removed already
      }
    },
  };
}
