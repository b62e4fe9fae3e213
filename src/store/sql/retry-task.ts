import type { Queryable } from "../db.js";
import { RUN_ENTRIES_CLEARED, runEntriesWrittenOut, statusEntriesFrom } from "./status-entries.js";
import type { TaskRow } from "../interfaces.js";
import { WAITING_RUN_AT } from "../migrations/013-task-dependencies.js";
import { APPROVAL_TYPE } from "../migrations/036-approvals.js";
import { writtenStatusCleared } from "./pipelines/written-status.js";
import { ruleResultsCleared } from "./rules/rule-results-cleared.js";

/**
 * Queues a failed or cancelled task again, with a fresh set of attempts. Its last run's entries are
 * written out and its "pending" entry of the event log goes in with the change, before any worker
 * can claim it. A task with a dependency not completed (cancelled while it waited, or for its
 * dependency's failure) waits again for it, released by migration 013's trigger. Its dependencies
 * are locked (FOR SHARE) and read as they are now: one completing at this instant either commits
 * first and is seen completed here, or waits and its trigger then finds this task waiting. A
 * pipeline's step retried makes its pipeline's end written back again (a trigger rule's onResult),
 * and so does a rule's own task.
 */
export async function retryTask(db: Queryable, id: string): Promise<TaskRow | undefined> {
  const { rows } = await db.query<TaskRow>(
    `WITH locked AS (
       SELECT * FROM ph_tasks WHERE id = $1 AND status IN ('failed', 'cancelled') FOR UPDATE
     ), dependencies AS (
       SELECT u.status FROM ph_task_dependencies d JOIN ph_tasks u ON u.id = d.depends_on WHERE d.task_id = $1 FOR SHARE OF u
     ), changed AS (
       UPDATE ph_tasks t
       SET status = 'pending', attempts = 0,
           -- A dependency removed since (retention) counts as not completed. An approval is asked
           -- for again: its decision (and the approvals counted toward it) goes, and it waits for a new one (migration 036).
           run_at = CASE WHEN (SELECT count(*) FROM ph_task_dependencies WHERE task_id = $1) > (SELECT count(*) FROM dependencies WHERE status = 'completed')
                           OR t.type = '${APPROVAL_TYPE}'
                    THEN '${WAITING_RUN_AT}'::timestamptz ELSE now() END, error = NULL, result = NULL, finished_at = NULL,
           params = CASE WHEN t.type = '${APPROVAL_TYPE}' THEN t.params - 'decision' - 'asked' - 'approvals' ELSE t.params END,
           started_at = NULL, cancel_requested = false, updated_at = now(), ${RUN_ENTRIES_CLEARED}
       FROM locked WHERE t.id = locked.id
       RETURNING t.*
     ), ${runEntriesWrittenOut("locked")}, ${writtenStatusCleared("changed")}, ${ruleResultsCleared("changed")}, ${statusEntriesFrom("changed", `'{"status":"pending","retried":true}'::text`)}
     SELECT * FROM changed`,
    [id],
  );
  return rows[0];
}
