import type { Queryable } from "../db.js";
import type { Finish, TaskRow } from "../interfaces.js";

/**
 * Records the end of runs, many in one statement. Fenced by the worker id: a worker whose lease
 * expired (and whose task another worker took over) cannot overwrite the newer run's outcome.
 * Arrays through unnest (not a JSON record set) let the planner see how few rows there are and
 * use the primary key.
 */
export async function finishTasks(db: Queryable, workerId: string, finishes: readonly Finish[]): Promise<TaskRow[]> {
  const { rows } = await db.query<TaskRow>(
    `UPDATE ph_tasks t
     SET status = f.status, result = f.result, error = f.error, finished_at = now(), updated_at = now(), last_worker = t.locked_by,
         locked_by = NULL, lease_expires_at = NULL, cancel_requested = false
     FROM unnest($2::text[], $3::text[], $4::jsonb[], $5::jsonb[]) AS f(id, status, result, error)
     WHERE t.id = f.id AND t.status = 'running' AND t.locked_by = $1
     RETURNING t.*`,
    [
      workerId,
      finishes.map((f) => f.id),
      finishes.map((f) => f.status),
      finishes.map((f) => (f.result === null ? null : JSON.stringify(f.result))),
      finishes.map((f) => (f.error === null ? null : JSON.stringify(f.error))),
    ],
  );
  return rows;
}
