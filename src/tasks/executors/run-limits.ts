/**
 * Resource limits of a run (TASK_LIMIT_* for the agent, `limits` on a task): CPU time, memory, file
 * size and open files of each process the run starts. They are rlimits, set by util-linux's
 * `prlimit` between the spawn and the task's program — `prlimit --cpu=… -- <program> <args…>` execs
 * the program with them, so it never runs a moment without them — and inherited by whatever it starts.
 *
 * What rlimits are and are not: each process has its own, so a run of ten processes may use ten
 * times the memory; a run's total would need cgroup controllers (memory.max, pids.max), which this
 * machine's hybrid cgroup layout does not offer. A process count limit (RLIMIT_NPROC) is left out:
 * the kernel counts it per user, the agent's own processes and every other run's included.
 * Memory is RLIMIT_DATA (heap and private writable mappings), not RLIMIT_AS: runtimes such as V8
 * and Bun reserve far more address space than they use, and would not start under an address-space
 * limit of a useful size.
 */
import { constants as osConstants } from "node:os";
import type { RunLimits } from "../types.js";
import type { FieldError } from "../../validation.js";
import { findAgentTool } from "./resolve-program.js";
import { DEFAULT_PATH } from "./safe-env.js";

export type { RunLimits } from "../types.js";

type LimitName = keyof RunLimits;

/** Each limit: the variable that sets the agent's, and how to say it. */
export const LIMITS: Record<LimitName, { variable: string; what: string; unit: string }> = {
  cpuSeconds: { variable: "TASK_LIMIT_CPU_SECONDS", what: "CPU time", unit: "s" },
  memoryMb: { variable: "TASK_LIMIT_MEMORY_MB", what: "memory", unit: "MB" },
  fileSizeMb: { variable: "TASK_LIMIT_FILE_SIZE_MB", what: "file size", unit: "MB" },
  openFiles: { variable: "TASK_LIMIT_OPEN_FILES", what: "open files", unit: "" },
};
const NAMES = Object.keys(LIMITS) as LimitName[];

/** A process that ignores SIGXCPU gets SIGKILL this much CPU time later. */
const CPU_KILL_AFTER_SECONDS = 2;
const MB = 1024 * 1024;

/** The agent's limits from its configuration (unset ones absent). */
export function agentLimits(config: { TASK_LIMIT_CPU_SECONDS?: number; TASK_LIMIT_MEMORY_MB?: number; TASK_LIMIT_FILE_SIZE_MB?: number; TASK_LIMIT_OPEN_FILES?: number }): RunLimits {
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

/** What a run gets: each limit the lower of the agent's and the task's (either may be unset). */
export function effectiveLimits(agent: RunLimits | undefined, task: RunLimits | undefined): RunLimits {
  const limits: RunLimits = {};
  for (const name of NAMES) {
    const values = [agent?.[name], task?.[name]].filter((v): v is number => v !== undefined);
    if (values.length > 0) limits[name] = Math.min(...values);
  }
  return limits;
}

/** "CPU time 10 s, memory 512 MB". */
export function describeLimits(limits: RunLimits): string {
  return NAMES.filter((name) => limits[name] !== undefined)
    .map((name) => `${LIMITS[name].what} ${limits[name]}${LIMITS[name].unit ? ` ${LIMITS[name].unit}` : ""}`)
    .join(", ");
}

/** util-linux's prlimit on the agent's PATH (as the commands of TASK_COMMAND_ALLOWLIST are found). */
export function findPrlimit(agentPath = process.env.PATH ?? DEFAULT_PATH): string | undefined {
  return findAgentTool("prlimit", agentPath);
}

export const NO_PRLIMIT = "prlimit (util-linux), which sets a run's limits, is not on the agent's PATH";

/**
 * A task's limits against the agent's: asking for more than the agent allows is refused, naming
 * the field and the agent's variable (asking for less is what a task may do).
 */
export function limitsProblems(task: RunLimits | undefined, agent: RunLimits | undefined): FieldError[] {
  if (!hasLimits(task)) return [];
  if (!findPrlimit()) return [{ field: "limits", value: describeLimits(task), message: `cannot be applied: ${NO_PRLIMIT}` }];
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
 * process under a shell that exits 128 + the signal's number — the error code and why. Memory has no
 * signal of its own: an allocation fails and the program ends as it sees fit, so a failed run under
 * a memory limit only says the limit was in force (limitsInForce).
 */
export function limitStop(ended: { signal: NodeJS.Signals | null; exitCode: number | null }, limits: RunLimits): { code: string; message: string } | undefined {
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

/** The agent's limits cannot be applied here (no prlimit): the first TASK_LIMIT_* set, and why. */
export function agentLimitsProblem(limits: RunLimits): FieldError | undefined {
  const name = NAMES.find((n) => limits[n] !== undefined);
  if (name === undefined || findPrlimit()) return undefined;
  return { field: LIMITS[name].variable, value: String(limits[name]), message: `cannot be applied: ${NO_PRLIMIT}; install it (Debian: util-linux) or unset the TASK_LIMIT_* variables` };
}
