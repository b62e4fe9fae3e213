import type { Queryable } from "../db.js";

/** Removes finished tasks (and, by cascade, their events) older than the retention period. */
export async function deleteExpiredTasks(db: Queryable, ttlMs: number): Promise<number> {
  const { affectedRows } = await db.query(
    `DELETE FROM ph_tasks WHERE status IN ('completed', 'failed', 'cancelled')
       AND finished_at < now() - make_interval(secs => $1 / 1000.0)`,
    [ttlMs],
  );
  return affectedRows;
}
