import type { Queryable } from "../db.js";
import { RUN_ENTRIES_CLEARED, runEntriesWrittenOut, statusEntriesFrom } from "./status-entries.js";
import type { TaskRow } from "../interfaces.js";

/**
 * Queues a failed or cancelled task again, with a fresh set of attempts. Its last run's entries are
 * written out and its "pending" entry of the event log goes in with the change, before any worker
 * can claim it.
 */
export async function retryTask(db: Queryable, id: string): Promise<TaskRow | undefined> {
  const { rows } = await db.query<TaskRow>(
    `WITH locked AS (
       SELECT * FROM ph_tasks WHERE id = $1 AND status IN ('failed', 'cancelled') FOR UPDATE
     ), changed AS (
       UPDATE ph_tasks t
       SET status = 'pending', attempts = 0, run_at = now(), error = NULL, result = NULL, finished_at = NULL,
           started_at = NULL, cancel_requested = false, updated_at = now(), ${RUN_ENTRIES_CLEARED}
       FROM locked WHERE t.id = locked.id
       RETURNING t.*
     ), ${runEntriesWrittenOut("locked")}, ${statusEntriesFrom("changed", `'{"status":"pending","retried":true}'::text`)}
     SELECT * FROM changed`,
    [id],
  );
  return rows[0];
}
