import type { Queryable } from "../db.js";
import type { TaskRow } from "../interfaces.js";

/** Queues a failed or cancelled task again, with a fresh set of attempts. */
export async function retryTask(db: Queryable, id: string): Promise<TaskRow | undefined> {
  const { rows } = await db.query<TaskRow>(
    `UPDATE ph_tasks
     SET status = 'pending', attempts = 0, run_at = now(), error = NULL, result = NULL, finished_at = NULL,
         started_at = NULL, cancel_requested = false, updated_at = now()
     WHERE id = $1 AND status IN ('failed', 'cancelled')
     RETURNING *`,
    [id],
  );
  return rows[0];
}
