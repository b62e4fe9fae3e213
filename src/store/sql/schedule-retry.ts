import type { Queryable } from "../db.js";
import type { TaskRow } from "../interfaces.js";
import type { JsonValue, TaskError } from "../../tasks/types.js";
import { RUN_ENTRIES_CLEARED, runEntriesWrittenOut, statusEntriesFrom } from "./status-entries.js";

/**
 * Puts a failed run back in the queue, claimable after delayMs; keeps its rank (age). The run's
 * "running" entry is written out and the "pending" entry (with the delay and the error) goes in
 * with the change: a claim of the retry, by this worker or another, can only come after both.
 */
export async function scheduleRetry(
  db: Queryable,
  args: { id: string; workerId: string; delayMs: number; error: TaskError; result: JsonValue | null },
): Promise<TaskRow | undefined> {
  const { rows } = await db.query<TaskRow>(
    `WITH locked AS (
       SELECT * FROM ph_tasks WHERE id = $1 AND status = 'running' AND locked_by = $2 AND NOT cancel_requested FOR UPDATE
     ), changed AS (
       UPDATE ph_tasks t
       SET status = 'pending', run_at = now() + make_interval(secs => $3::int / 1000.0), error = $4::jsonb, result = $5::jsonb,
           locked_by = NULL, lease_expires_at = NULL, updated_at = now(), ${RUN_ENTRIES_CLEARED}
       FROM locked WHERE t.id = locked.id
       RETURNING t.*
     ), ${runEntriesWrittenOut("locked")},
     ${statusEntriesFrom("changed", "json_build_object('status', 'pending', 'retryInMs', $3::int, 'attempt', c.attempts, 'error', c.error)::text")}
     SELECT * FROM changed`,
    [args.id, args.workerId, Math.round(args.delayMs), JSON.stringify(args.error), JSON.stringify(args.result)],
  );
  return rows[0];
}
