import type { Queryable } from "../db.js";
import { statusEntriesFrom } from "./status-entries.js";
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
     ), ${statusEntriesFrom("changed", `'{"status":"pending","retried":true}'::text`)}
     SELECT * FROM changed`,
    [id],
  );
  return rows[0];
}
