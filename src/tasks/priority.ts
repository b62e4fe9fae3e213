/**
 * Priority by type and age.
 *
 * Each task has a priority 0–100 (its own, or its type's default). Claims take tasks in order of
 * their *rank time*:
 *
 *   rank_at = created_at − priority × TASK_AGING_MS
 *
 * which is the same as ranking by `priority + waited / TASK_AGING_MS`, highest first: every
 * TASK_AGING_MS a task waits is worth one priority point. A task of priority 10 therefore waits at
 * most (90 − 10) × TASK_AGING_MS behind a stream of priority-90 tasks before it overtakes the new
 * ones: nothing starves. rank_at is fixed at enqueue, so the claim scans an index, not a sort.
 */
export const DEFAULT_TYPE_PRIORITY: Readonly<Record<string, number>> = {
  cli: 50,
  "claude-code": 40,
  "claude-agent": 40,
};

export function effectiveRank(priority: number, waitedMs: number, agingMs: number): number {
  return priority + waitedMs / agingMs;
}
