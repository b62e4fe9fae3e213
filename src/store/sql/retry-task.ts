import type { Queryable } from "../db.js";
import type { TaskRow } from "../interfaces.js";

/**
 * Queues a failed or cancelled task again, with a fresh set of attempts; its "pending" entry of
 * the event log goes in with the change, before any worker can claim it.
 */
export async function retryTask(db: Queryable, id: string): Promise<TaskRow | undefined> {
  const { rows } = await db.query<TaskRow>(
    `WITH changed AS (
       UPDATE ph_tasks
       SET status = 'pending', attempts = 0, run_at = now(), error = NULL, result = NULL, finished_at = NULL,
           started_at = NULL, cancel_requested = false, updated_at = now()
       WHERE id = $1 AND status IN ('failed', 'cancelled')
       RETURNING *
     ), logged AS (
       INSERT INTO ph_task_events (task_id, kind, stream, data, bytes)
       SELECT c.id, 'status', NULL, x.data, octet_length(x.data)
       FROM changed c CROSS JOIN LATERAL (SELECT '{"status":"pending","retried":true}'::text AS data) x
     )
     SELECT * FROM changed`,
    [id],
  );
  return rows[0];
}
