/**
 * Resource limits of a run (TASK_LIMIT_* for the agent, `limits` on a task): CPU time, memory, file
 * size and open files of each process the run starts. They are rlimits, set by util-linux's
 * `prlimit` between the spawn and the task's program — `prlimit --cpu=… -- <program> <args…>` execs
 * the program with them, so it never runs a moment without them — and inherited by whatever it starts.
 *
 * What rlimits are and are not: each process has its own, so a run of ten processes may use ten
 * times the memory. A process count limit (RLIMIT_NPROC) is left out: the kernel counts it per user,
 * the agent's own processes and every other run's included. The run's totals — `processes` and
 * `totalMemoryMb` — are counted by cgroup controllers instead (run-totals.ts; TASK_CGROUP_ROOT).
 * Memory is RLIMIT_DATA (heap and private writable mappings), not RLIMIT_AS: runtimes such as V8
 * and Bun reserve far more address space than they use, and would not start under an address-space
 * limit of a useful size.
 */
import { constants as osConstants } from "node:os";
import type { RunLimits } from "../types.js";
import type { FieldError } from "../../validation.js";
import { findAgentTool } from "./resolve-program.js";
import { totalsProblem, type TotalsHit } from "./run-totals.js";
import { DEFAULT_PATH } from "./safe-env.js";

export type { RunLimits } from "../types.js";

type LimitName = keyof RunLimits;

/**
 * Each limit: the variable that sets the agent's, how to say it, and what it counts — each process
 * (an rlimit, set by prlimit) or the run's processes together (its cgroup, run-totals.ts).
 */
export const LIMITS: Record<LimitName, { variable: string; what: string; unit: string; of: "process" | "run" }> = {
  cpuSeconds: { variable: "TASK_LIMIT_CPU_SECONDS", what: "CPU time", unit: "s", of: "process" },
  memoryMb: { variable: "TASK_LIMIT_MEMORY_MB", what: "memory", unit: "MB", of: "process" },
  fileSizeMb: { variable: "TASK_LIMIT_FILE_SIZE_MB", what: "file size", unit: "MB", of: "process" },
  openFiles: { variable: "TASK_LIMIT_OPEN_FILES", what: "open files", unit: "", of: "process" },
  processes: { variable: "TASK_LIMIT_PROCESSES", what: "processes", unit: "", of: "run" },
  totalMemoryMb: { variable: "TASK_LIMIT_TOTAL_MEMORY_MB", what: "memory", unit: "MB", of: "run" },
};
const NAMES = Object.keys(LIMITS) as LimitName[];
const PROCESS_NAMES = NAMES.filter((name) => LIMITS[name].of === "process");

/** A process that ignores SIGXCPU gets SIGKILL this much CPU time later. */
const CPU_KILL_AFTER_SECONDS = 2;
const MB = 1024 * 1024;

/** The agent's limits from its configuration (unset ones absent). */
export function agentLimits(config: { TASK_LIMIT_CPU_SECONDS?: number; TASK_LIMIT_MEMORY_MB?: number; TASK_LIMIT_FILE_SIZE_MB?: number; TASK_LIMIT_OPEN_FILES?: number; TASK_LIMIT_PROCESSES?: number; TASK_LIMIT_TOTAL_MEMORY_MB?: number }): RunLimits {
  const limits: RunLimits = {};
  for (const name of NAMES) {
    const value = config[LIMITS[name].variable as keyof typeof config];
    if (value !== undefined) limits[name] = value;
  }
  return limits;
}

export function hasLimits(limits: RunLimits | undefined): limits is RunLimits {
  return limits !== undefined && NAMES.some((name) => limits[name] !== undefined);
}

/** Limits of each process (what prlimit sets), as opposed to the run's totals. */
export function hasProcessLimits(limits: RunLimits | undefined): limits is RunLimits {
  return limits !== undefined && PROCESS_NAMES.some((name) => limits[name] !== undefined);
}

/** What a run gets: each limit the lower of the agent's and the task's (either may be unset). */
export function effectiveLimits(agent: RunLimits | undefined, task: RunLimits | undefined): RunLimits {
  const limits: RunLimits = {};
  for (const name of NAMES) {
    const values = [agent?.[name], task?.[name]].filter((v): v is number => v !== undefined);
    if (values.length > 0) limits[name] = Math.min(...values);
  }
  return limits;
}

/** "CPU time 10 s, memory 512 MB" for `of` "process", "processes 100, memory 2048 MB" for "run" ("" for none). */
const listLimits = (limits: RunLimits, of: "process" | "run"): string =>
  NAMES.filter((name) => LIMITS[name].of === of && limits[name] !== undefined)
    .map((name) => `${LIMITS[name].what} ${limits[name]}${LIMITS[name].unit ? ` ${LIMITS[name].unit}` : ""}`)
    .join(", ");

/** "CPU time 10 s, memory 512 MB; together: processes 100, memory 2048 MB" (each process's, then the run's totals). */
export function describeLimits(limits: RunLimits): string {
  const together = listLimits(limits, "run");
  return [listLimits(limits, "process"), together ? `together: ${together}` : ""].filter(Boolean).join("; ");
}

/** As `ph-tasks show` and the task page say them: "CPU time 10 s (each process); processes 100 (all its processes together)". */
export function limitsLine(limits: RunLimits): string {
  const each = listLimits(limits, "process");
  const together = listLimits(limits, "run");
  return [each ? `${each} (each process)` : "", together ? `${together} (all its processes together)` : ""].filter(Boolean).join("; ");
}

/** util-linux's prlimit on the agent's PATH (as the commands of TASK_COMMAND_ALLOWLIST are found). */
export function findPrlimit(agentPath = process.env.PATH ?? DEFAULT_PATH): string | undefined {
  return findAgentTool("prlimit", agentPath);
}

export const NO_PRLIMIT = "prlimit (util-linux), which sets a run's limits, is not on the agent's PATH";

/**
 * A task's limits against the agent's: asking for more than the agent allows is refused, naming
 * the field and the agent's variable (asking for less is what a task may do). Totals need the
 * agent's cgroup directory (`cgroupRoot`) to offer their controllers.
 */
export function limitsProblems(task: RunLimits | undefined, agent: RunLimits | undefined, cgroupRoot: string | undefined): FieldError[] {
  if (!hasLimits(task)) return [];
  if (hasProcessLimits(task) && !findPrlimit()) return [{ field: "limits", value: describeLimits(task), message: `cannot be applied: ${NO_PRLIMIT}` }];
  const totals = totalsProblem(cgroupRoot, task);
  if (totals) return [{ field: "limits", value: describeLimits(task), message: totals }];
  const problems: FieldError[] = [];
  for (const name of NAMES) {
    const asked = task[name];
    const allowed = agent?.[name];
    if (asked !== undefined && allowed !== undefined && asked > allowed) {
      problems.push({ field: `limits.${name}`, value: String(asked), message: `must be at most ${allowed}, this agent's ${LIMITS[name].variable}` });
    }
  }
  return problems;
}

/** prlimit's options for `limits`: soft and hard limit alike, but for CPU time (see CPU_KILL_AFTER_SECONDS). */
export function prlimitOptions(limits: RunLimits): string[] {
  const options: string[] = [];
  if (limits.cpuSeconds !== undefined) options.push(`--cpu=${limits.cpuSeconds}:${limits.cpuSeconds + CPU_KILL_AFTER_SECONDS}`);
  if (limits.memoryMb !== undefined) options.push(`--data=${limits.memoryMb * MB}`);
  if (limits.fileSizeMb !== undefined) options.push(`--fsize=${limits.fileSizeMb * MB}`);
  if (limits.openFiles !== undefined) options.push(`--nofile=${limits.openFiles}`);
  return options;
}

/**
 * A run stopped by one of its limits, told by the signal the kernel sends — to the leader, or to a
 * process under a shell that exits 128 + the signal's number — or by its cgroup's counters (a
 * process the kernel ended at the run's memory total, forks refused at its process total): the
 * error code and why. A process's own memory limit has no signal: an allocation fails and the
 * program ends as it sees fit, so a failed run under it only says the limit was in force.
 */
export function limitStop(ended: { signal: NodeJS.Signals | null; exitCode: number | null; totalsHit?: TotalsHit | undefined }, limits: RunLimits): { code: string; message: string } | undefined {
  const hit = ended.totalsHit;
  if (limits.totalMemoryMb !== undefined && hit && hit.memoryKills > 0) {
    return { code: "total_memory_limit", message: `reached its memory limit of ${limits.totalMemoryMb} MB for all its processes together (limits.totalMemoryMb, ${LIMITS.totalMemoryMb.variable}): the kernel ended ${hit.memoryKills === 1 ? "one of them" : `${hit.memoryKills} of them`}` };
  }
  if (limits.processes !== undefined && hit && hit.refusedForks > 0) {
    return { code: "process_limit", message: `reached its limit of ${limits.processes} processes at once (limits.processes, ${LIMITS.processes.variable}): ${hit.refusedForks} fork(s) refused` };
  }
  const by = (signal: NodeJS.Signals) => ended.signal === signal || ended.exitCode === 128 + (osConstants.signals[signal] ?? -1000);
  const how = (signal: NodeJS.Signals) => (ended.signal === signal ? `was stopped by ${signal}` : `exited with ${ended.exitCode ?? ""} (128 + ${signal}: a process of the run was stopped by it)`);
  if (limits.cpuSeconds !== undefined && by("SIGXCPU")) {
    return { code: "cpu_limit", message: `reached its CPU time limit of ${limits.cpuSeconds} s (limits.cpuSeconds, ${LIMITS.cpuSeconds.variable}) and ${how("SIGXCPU")}` };
  }
  if (limits.fileSizeMb !== undefined && by("SIGXFSZ")) {
    return { code: "file_size_limit", message: `wrote past its file size limit of ${limits.fileSizeMb} MB (limits.fileSizeMb, ${LIMITS.fileSizeMb.variable}) and ${how("SIGXFSZ")}` };
  }
  return undefined;
}

/** " (under limits: memory 256 MB)" for the message of a run that failed otherwise, "" without limits. */
export function limitsInForce(limits: RunLimits): string {
  return hasLimits(limits) ? ` (under limits: ${describeLimits(limits)})` : "";
}

/** The limits a run had, for its result (undefined without any). */
export function limitsJson(limits: RunLimits): Record<string, number> | undefined {
  if (!hasLimits(limits)) return undefined;
  const json: Record<string, number> = {};
  for (const name of NAMES) if (limits[name] !== undefined) json[name] = limits[name];
  return json;
}

/**
 * The agent's limits cannot be applied here: the first TASK_LIMIT_* that cannot, and why — no
 * prlimit for those of each process, no usable cgroup controller under `cgroupRoot` for the totals.
 */
export function agentLimitsProblem(limits: RunLimits, cgroupRoot: string | undefined): FieldError | undefined {
  const name = PROCESS_NAMES.find((n) => limits[n] !== undefined);
  if (name !== undefined && !findPrlimit()) {
    return { field: LIMITS[name].variable, value: String(limits[name]), message: `cannot be applied: ${NO_PRLIMIT}; install it (Debian: util-linux) or unset the TASK_LIMIT_* variables` };
  }
  const total = NAMES.find((n) => LIMITS[n].of === "run" && limits[n] !== undefined);
  const problem = totalsProblem(cgroupRoot, limits);
  if (total === undefined || problem === undefined) return undefined;
  return { field: LIMITS[total].variable, value: String(limits[total]), message: problem };
}
