import type { Queryable } from "../db.js";
import { RUN_ENTRIES_CLEARED, runEntriesWrittenOut, statusEntriesFrom } from "./status-entries.js";
import type { TaskRow } from "../interfaces.js";

/**
 * Running tasks whose worker stopped renewing (killed, frozen, cut off) go back to the queue, or
 * fail with "worker_lost" when that was their last attempt. Nothing accepted is ever dropped.
 * The run's "running" entry is written out and the event log's entry ({status, recovered, error})
 * goes in with the change, before another worker can claim the task and log "running".
 */
export async function recoverExpiredLeases(db: Queryable): Promise<TaskRow[]> {
  const { rows } = await db.query<TaskRow>(
    `WITH locked AS (
       SELECT * FROM ph_tasks WHERE status = 'running' AND lease_expires_at < now() FOR UPDATE
     ), changed AS (
       UPDATE ph_tasks t
       SET status = CASE WHEN t.cancel_requested THEN 'cancelled' WHEN t.attempts >= t.max_attempts THEN 'failed' ELSE 'pending' END,
           error = CASE WHEN t.cancel_requested
                        THEN '{"kind":"fatal","code":"cancelled","message":"cancelled while its worker was lost"}'::jsonb
                        ELSE jsonb_build_object('kind', 'retryable', 'code', 'worker_lost',
                          'message', 'worker ' || coalesce(t.locked_by, '?') || ' stopped renewing its lease') END,
           finished_at = CASE WHEN t.cancel_requested OR t.attempts >= t.max_attempts THEN now() ELSE NULL END,
           run_at = now(), locked_by = NULL, lease_expires_at = NULL, updated_at = now(), ${RUN_ENTRIES_CLEARED}
       FROM locked WHERE t.id = locked.id
       RETURNING t.*
     ), ${runEntriesWrittenOut("locked")}, ${statusEntriesFrom("changed", `jsonb_build_object('status', c.status, 'recovered', true, 'error', c.error)::text`)}
     SELECT * FROM changed`,
  );
  return rows;
}
