/**
 * Resource limits of a Claude run (claude-code, claude-agent): the claude process and everything
 * its tools start run under them (run-limits.ts, run-totals.ts). The claude binary needs some room
 * of its own first.
 */
import type { FieldError } from "../../../validation.js";
import { effectiveLimits, limitsProblems, LIMITS, type RunLimits } from "../run-limits.js";

/**
 * The least memory limit a Claude run may have. The binary (Bun) maps about 560 MB of private
 * memory before it does anything — measured with the pinned 2.1.331: `claude --version` aborts
 * under RLIMIT_DATA of 540 MB and starts at 560 — and a session needs more as it goes.
 */
export const CLAUDE_MIN_MEMORY_MB = 1024;

/**
 * The least of each limit a claude run needs, and why. The run's totals: the pinned binary has
 * ≈ 210 MB resident and 9 threads (each counted by pids.max) a second after it starts, before any
 * tool runs.
 */
const CLAUDE_NEEDS: { name: "memoryMb" | "totalMemoryMb" | "processes"; label: string; least: number; unit: string; why: string }[] = [
  { name: "memoryMb", label: "memory", least: CLAUDE_MIN_MEMORY_MB, unit: " MB", why: "the claude binary alone maps about 560 MB before it starts" },
  { name: "totalMemoryMb", label: "total memory", least: 512, unit: " MB", why: "the claude binary alone has about 210 MB resident once started, before its tools" },
  { name: "processes", label: "process", least: 32, unit: "", why: "the claude binary alone runs about 10 threads, each counted, before its tools" },
];

/** A task's limits against the agent's (and `cgroupRoot`'s controllers), and the run's against claude's needs. */
export function claudeLimitsProblems(task: RunLimits | undefined, agent: RunLimits | undefined, cgroupRoot: string | undefined): FieldError[] {
  const problems = limitsProblems(task, agent, cgroupRoot);
  const limits = effectiveLimits(agent, task);
  for (const need of CLAUDE_NEEDS) {
    const value = limits[need.name];
    if (value === undefined || value >= need.least || problems.some((p) => p.field === `limits.${need.name}`)) continue;
    const whose = task?.[need.name] === value ? "" : ` (this agent's ${LIMITS[need.name].variable})`;
    problems.push({ field: `limits.${need.name}`, value: String(value), message: `is below the ${need.least}${need.unit} a claude run needs${whose}: ${need.why}` });
  }
  return problems;
}

/** Why a run under `limits` (the agent's and the task's together) cannot start claude, or undefined. */
export function claudeRoomProblem(limits: RunLimits): string | undefined {
  for (const need of CLAUDE_NEEDS) {
    const value = limits[need.name];
    if (value !== undefined && value < need.least) {
      return `the run's ${need.label} limit of ${value}${need.unit} (limits.${need.name}, ${LIMITS[need.name].variable}) is below the ${need.least}${need.unit} a claude run needs`;
    }
  }
  return undefined;
}
