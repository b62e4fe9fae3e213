import type { Queryable } from "../db.js";
import type { Finish, TaskRow } from "../interfaces.js";

/**
 * Records the end of runs, many in one statement. Fenced by the worker id: a worker whose lease
 * expired (and whose task another worker took over) cannot overwrite the newer run's outcome.
 */
export async function finishTasks(db: Queryable, workerId: string, finishes: readonly Finish[]): Promise<TaskRow[]> {
  const { rows } = await db.query<TaskRow>(
    `UPDATE ph_tasks t
     SET status = f.status, result = f.result, error = f.error, finished_at = now(), updated_at = now(),
         locked_by = NULL, lease_expires_at = NULL, cancel_requested = false
     FROM jsonb_to_recordset($2::jsonb) AS f(id text, status text, result jsonb, error jsonb)
     WHERE t.id = f.id AND t.status = 'running' AND t.locked_by = $1
     RETURNING t.*`,
    [workerId, JSON.stringify(finishes)],
  );
  return rows;
}
