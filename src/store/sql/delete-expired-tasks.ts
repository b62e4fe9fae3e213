import type { Queryable } from "../db.js";

/**
 * Removes finished tasks older than the retention period — failed ones older than theirs
 * (TASK_FAILED_RESULT_TTL) — and their event-log entries (no cascade: see migration 006), including
 * entries left by tasks deleted any other way. The finished_at index (migration 023) finds them.
 */
export async function deleteExpiredTasks(db: Queryable, ttlMs: number, failedTtlMs: number): Promise<number> {
  const { rows } = await db.query<{ removed: number }>(
    `WITH gone AS (
       DELETE FROM ph_tasks WHERE finished_at < now() - make_interval(secs => least($1::float8, $2::float8) / 1000.0)
         AND ((status IN ('completed', 'cancelled') AND finished_at < now() - make_interval(secs => $1::float8 / 1000.0))
              OR (status = 'failed' AND finished_at < now() - make_interval(secs => $2::float8 / 1000.0)))
       RETURNING id
     ), entries AS (
       DELETE FROM ph_task_events e
       WHERE e.task_id IN (SELECT id FROM gone) OR NOT EXISTS (SELECT 1 FROM ph_tasks t WHERE t.id = e.task_id)
     )
     SELECT count(*)::int AS removed FROM gone`,
    [ttlMs, failedTtlMs],
  );
  return rows[0]?.removed ?? 0;
}
