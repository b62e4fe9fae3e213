import type { Queryable } from "../db.js";
import type { TaskRow } from "../interfaces.js";
import { APPROVAL_TYPE, AWAITING_DECISION } from "../migrations/036-approvals.js";

/**
 * Marks asked (params.asked) up to `limit` approvals that now wait for a decision alone — no
 * decision, not asked yet, every dependency completed — and returns them. Each is taken by one
 * worker (SKIP LOCKED) and marked in the transaction that tells the webhooks (the trigger of
 * migration 036), so people are asked once. Read through the index of the approvals not asked for yet.
 */
export async function takeApprovalAsks(db: Queryable, limit: number): Promise<TaskRow[]> {
  const { rows } = await db.query<TaskRow>(
    `UPDATE ph_tasks t SET params = t.params || jsonb_build_object('asked', now()), updated_at = now()
     WHERE t.id IN (
       SELECT t.id FROM ph_tasks t
       WHERE t.type = '${APPROVAL_TYPE}' AND t.status = 'pending' AND ${AWAITING_DECISION} AND NOT t.params ? 'asked'
         AND NOT EXISTS (SELECT 1 FROM ph_task_dependencies d LEFT JOIN ph_tasks u ON u.id = d.depends_on
                         WHERE d.task_id = t.id AND (u.id IS NULL OR u.status <> 'completed'))
       ORDER BY t.id LIMIT $1 FOR UPDATE SKIP LOCKED)
     RETURNING t.*`,
    [limit],
  );
  return rows;
}
