import type { Queryable } from "../db.js";
import type { TaskRow } from "../interfaces.js";
import { APPROVAL_TYPE, AWAITING_DECISION } from "../migrations/036-approvals.js";

/**
 * The approvals that wait for a person's decision now — asked for (take-approval-asks.ts), none
 * decided — the longest waiting first, through their own index (migration 036).
 */
export async function selectAskedApprovals(db: Queryable, limit: number): Promise<TaskRow[]> {
  const { rows } = await db.query<TaskRow>(
    `SELECT t.* FROM ph_tasks t
     WHERE t.type = '${APPROVAL_TYPE}' AND t.status = 'pending' AND t.params ? 'asked' AND ${AWAITING_DECISION}
     ORDER BY t.params->>'asked', t.id LIMIT $1`,
    [limit],
  );
  return rows;
}
