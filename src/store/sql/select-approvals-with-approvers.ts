import type { Queryable } from "../db.js";
import { APPROVAL_TYPE, AWAITING_DECISION } from "../migrations/036-approvals.js";

export interface ApprovalWithApprovers {
  id: string;
  title: string;
  approvers: unknown;
  approvals: unknown;
  required: number;
}

/**
 * The approvals not decided yet that name who may decide them (`approvers`), up to `limit`: at
 * start and by `ph-tasks doctor`, to tell of those no one this agent knows could decide (a name
 * taken out of API_USERS or TASK_AUTHORIZED_WRITERS since). A read of the pending tasks, not of the
 * history.
 */
export async function selectApprovalsWithApprovers(db: Queryable, limit: number): Promise<ApprovalWithApprovers[]> {
  const { rows } = await db.query<ApprovalWithApprovers>(
    `SELECT t.id, t.title, t.params->'approvers' AS approvers, t.params->'approvals' AS approvals, coalesce((t.params->>'required')::int, 1) AS required
     FROM ph_tasks t
     WHERE t.type = '${APPROVAL_TYPE}' AND t.status = 'pending' AND ${AWAITING_DECISION} AND t.params ? 'approvers'
     ORDER BY t.id LIMIT $1`,
    [limit],
  );
  return rows;
}
