import type { Queryable } from "../db.js";
import type { TaskRow } from "../interfaces.js";
import type { JsonValue, TaskError } from "../../tasks/types.js";

/** Puts a failed run back in the queue, claimable after delayMs; keeps its rank (age). */
export async function scheduleRetry(
  db: Queryable,
  args: { id: string; workerId: string; delayMs: number; error: TaskError; result: JsonValue | null },
): Promise<TaskRow | undefined> {
  const { rows } = await db.query<TaskRow>(
    `UPDATE ph_tasks
     SET status = 'pending', run_at = now() + make_interval(secs => $3 / 1000.0), error = $4::jsonb, result = $5::jsonb,
         locked_by = NULL, lease_expires_at = NULL, updated_at = now()
     WHERE id = $1 AND status = 'running' AND locked_by = $2 AND NOT cancel_requested
     RETURNING *`,
    [args.id, args.workerId, args.delayMs, JSON.stringify(args.error), JSON.stringify(args.result)],
  );
  return rows[0];
}
