/**
 * Resource limits of a Claude run (claude-code, claude-agent): the claude process and everything
 * its tools start run under them (run-limits.ts). The claude binary needs memory of its own first.
 */
import type { FieldError } from "../../../validation.js";
import { effectiveLimits, limitsProblems, LIMITS, type RunLimits } from "../run-limits.js";

/**
 * The least memory limit a Claude run may have. The binary (Bun) maps about 560 MB of private
 * memory before it does anything — measured with the pinned 2.1.331: `claude --version` aborts
 * under RLIMIT_DATA of 540 MB and starts at 560 — and a session needs more as it goes.
 */
export const CLAUDE_MIN_MEMORY_MB = 1024;

/** A task's limits against the agent's, and the memory limit the run would get against claude's need. */
export function claudeLimitsProblems(task: RunLimits | undefined, agent: RunLimits | undefined): FieldError[] {
  const problems = limitsProblems(task, agent);
  const memory = effectiveLimits(agent, task).memoryMb;
  if (memory !== undefined && memory < CLAUDE_MIN_MEMORY_MB && !problems.some((p) => p.field === "limits.memoryMb")) {
    const whose = task?.memoryMb === memory ? "" : ` (this agent's ${LIMITS.memoryMb.variable})`;
    problems.push({ field: "limits.memoryMb", value: String(memory), message: `is below the ${CLAUDE_MIN_MEMORY_MB} MB a claude run needs${whose}: the claude binary alone maps about 560 MB before it starts` });
  }
  return problems;
}

/** Why a run under `limits` (the agent's and the task's together) cannot start claude, or undefined. */
export function claudeMemoryProblem(limits: RunLimits): string | undefined {
  if (limits.memoryMb === undefined || limits.memoryMb >= CLAUDE_MIN_MEMORY_MB) return undefined;
  return `the run's memory limit of ${limits.memoryMb} MB (limits.memoryMb, ${LIMITS.memoryMb.variable}) is below the ${CLAUDE_MIN_MEMORY_MB} MB a claude run needs`;
}
