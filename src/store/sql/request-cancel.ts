import type { Queryable } from "../db.js";
import type { TaskRow } from "../interfaces.js";

/**
 * Cancels a pending task at once; marks a running one for cancellation (its worker stops it and
 * records the end, keeping the reason written here in `error`). Returns the row as it is now, or
 * nothing when the task is already finished. `code`: the error's code (cancelled, dependency_failed).
 */
export async function requestCancel(db: Queryable, id: string, reason: string, code = "cancelled"): Promise<TaskRow | undefined> {
  const { rows } = await db.query<TaskRow>(
    `UPDATE ph_tasks
     SET status = CASE WHEN status = 'pending' THEN 'cancelled' ELSE status END,
         finished_at = CASE WHEN status = 'pending' THEN now() ELSE finished_at END,
         error = jsonb_build_object('kind', 'fatal', 'code', $3::text, 'message', $2::text),
         cancel_requested = (status = 'running'),
         updated_at = now()
     WHERE id = $1 AND status IN ('pending', 'running')
     RETURNING *`,
    [id, reason, code],
  );
  return rows[0];
}
