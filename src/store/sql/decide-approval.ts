import type { Queryable } from "../db.js";
import type { TaskRow } from "../interfaces.js";
import { RELEASED_RUN_AT } from "../migrations/020-run-at.js";
import { APPROVAL_TYPE, AWAITING_DECISION } from "../migrations/036-approvals.js";

/** What a person decided about an approval task, as kept in its params (`decision`). */
export interface Decision {
  approved: boolean;
  /** Who: the name given with the decision (the CLI's user, a document's writer). */
  by: string;
  note?: string;
  /**
   * The name of who decides as proven (a named API token, a named app key's signature), if it
   * is: an approval that lists `approvers` is decided only by one of them.
   */
  approver?: string | undefined;
}

/** The approvals counted so far, with this one (`$3` by, `$4` note) added: for an approval that needs several. */
const APPROVALS_AFTER = "(coalesce(t.params->'approvals', '[]'::jsonb) || jsonb_build_array(jsonb_strip_nulls(jsonb_build_object('by', $3::text, 'note', $4::text, 'at', now()))))";
/** How many approvals it needs (`required`, 1 when absent). */
const REQUIRED = "coalesce((t.params->>'required')::int, 1)";
/** Whether this decision decides it: a rejection does at once, an approval once enough were counted. */
const FINAL = `(NOT $2::boolean OR jsonb_array_length(${APPROVALS_AFTER}) >= ${REQUIRED})`;
/** Who decided: the person, or everyone whose approvals made the count. */
const DECIDED_BY = `CASE WHEN $2::boolean AND ${REQUIRED} > 1 THEN (SELECT string_agg(a->>'by', ', ') FROM jsonb_array_elements(${APPROVALS_AFTER}) a) ELSE $3::text END`;

/**
 * Records a person's decision on an approval that has none. A rejection decides it; an approval
 * does once `required` approvals (default 1) were counted — before that it is added to its
 * `approvals` and the task waits on. Decided, it is released to run: at once (or at its runAt, if
 * later), or when its last dependency completes — the release trigger then passes it on
 * (migration 036). Every value is worked out from the row as the UPDATE finds it, so two people
 * approving at the same instant are both counted (the second waits for the first's row lock and
 * reads its approvals). Its dependencies are locked (FOR SHARE) and read as they are now, as
 * retry-task.ts does: one completing at this instant either commits first and is seen completed
 * here, or waits and its trigger then finds this task decided. Undefined when the task is not a
 * pending approval without a decision, names approvers and `approver` is none of them, or this
 * person's approval was counted already (the caller says which).
 */
export async function decideApproval(db: Queryable, id: string, decision: Decision): Promise<TaskRow | undefined> {
  const { rows } = await db.query<TaskRow>(
    `WITH dependencies AS (
       SELECT u.status FROM ph_task_dependencies d JOIN ph_tasks u ON u.id = d.depends_on WHERE d.task_id = $1 FOR SHARE OF u
     )
     UPDATE ph_tasks t
     SET params = t.params
           || CASE WHEN ${FINAL} THEN jsonb_build_object('decision', jsonb_strip_nulls(jsonb_build_object('approved', $2::boolean, 'by', ${DECIDED_BY}, 'note', $4::text, 'at', now()))) ELSE '{}'::jsonb END
           || CASE WHEN ${REQUIRED} > 1 THEN jsonb_build_object('approvals', ${APPROVALS_AFTER}) ELSE '{}'::jsonb END,
         -- A dependency removed since (retention) counts as not completed.
         run_at = CASE WHEN NOT ${FINAL} OR (SELECT count(*) FROM ph_task_dependencies WHERE task_id = $1) > (SELECT count(*) FROM dependencies WHERE status = 'completed')
                  THEN t.run_at ELSE ${RELEASED_RUN_AT} END,
         updated_at = now()
     WHERE t.id = $1 AND t.type = '${APPROVAL_TYPE}' AND t.status = 'pending' AND ${AWAITING_DECISION}
       AND (NOT t.params ? 'approvers' OR ($5::text IS NOT NULL AND t.params->'approvers' ? $5::text))
       AND NOT coalesce(t.params->'approvals', '[]'::jsonb) @> jsonb_build_array(jsonb_build_object('by', $3::text))
     RETURNING t.*`,
    [id, decision.approved, decision.by, decision.note ?? null, decision.approver ?? null],
  );
  return rows[0];
}
