import type { Queryable } from "../db.js";

/**
 * Keeps a task's stored output within maxBytes: the oldest output chunks go first (status
 * events stay, they are small and tell the story).
 */
export async function trimEvents(db: Queryable, taskId: string, maxBytes: number): Promise<number> {
  const { affectedRows } = await db.query(
    `DELETE FROM ph_task_events WHERE task_id = $1 AND seq IN (
       SELECT seq FROM (
         SELECT seq, sum(bytes) OVER (ORDER BY seq DESC) AS newer_bytes FROM ph_task_events
         WHERE task_id = $1 AND kind = 'output'
       ) o WHERE o.newer_bytes > $2)`,
    [taskId, maxBytes],
  );
  return affectedRows;
}
