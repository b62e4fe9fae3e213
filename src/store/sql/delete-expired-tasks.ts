import type { Queryable } from "../db.js";

/**
 * Removes finished tasks older than the retention period — failed ones older than theirs
 * (TASK_FAILED_RESULT_TTL) — their tags' and titles' rows, and their event-log entries (no cascade: see migration 006).
 * The finished_at index (migration 023) finds the tasks, and the (task_id, seq) index their entries:
 * a cleanup with nothing due reads next to nothing. (It used to also look for entries whose task was
 * deleted some other way — by hand — which read the whole event log each time: 4.5 s with 1,000,000
 * tasks kept on PostgreSQL, every hour, on every worker. Delete a task's entries with it.)
 */
export async function deleteExpiredTasks(db: Queryable, ttlMs: number, failedTtlMs: number): Promise<number> {
  const { rows } = await db.query<{ removed: number }>(
    `WITH gone AS (
       DELETE FROM ph_tasks WHERE finished_at < now() - make_interval(secs => least($1::float8, $2::float8) / 1000.0)
         AND ((status IN ('completed', 'cancelled') AND finished_at < now() - make_interval(secs => $1::float8 / 1000.0))
              OR (status = 'failed' AND finished_at < now() - make_interval(secs => $2::float8 / 1000.0)))
       RETURNING id
     ), tags AS (
       DELETE FROM ph_task_tags WHERE task_id IN (SELECT id FROM gone)
     ), titles AS (
       DELETE FROM ph_task_titles WHERE task_id IN (SELECT id FROM gone)
     ), entries AS (
       DELETE FROM ph_task_events e
       WHERE e.task_id IN (SELECT id FROM gone)
     )
     SELECT count(*)::int AS removed FROM gone`,
    [ttlMs, failedTtlMs],
  );
  return rows[0]?.removed ?? 0;
}
