import type { Queryable } from "../../db.js";
import { BUDGET_DELIVERIES_QUEUED } from "./flip-budget-state.js";

/**
 * Records that `driveId`'s spend has crossed its budget's warning share (`near`: a row) — only if it
 * had not — queuing in the same statement one `budget.drive_nearly_spent` delivery for each enabled
 * webhook that asks; or (`near` false) that it is no longer past it (spent, back under, or no budget
 * now: the row removed), which tells no one. Of several workers seeing the same crossing, one flips it.
 */
export async function flipDriveBudgetWarning(db: Queryable, driveId: string, near: boolean, payload: Record<string, unknown>): Promise<{ flipped: boolean; deliveries: number }> {
  if (!near) {
    const { rows } = await db.query("DELETE FROM ph_drive_budget_warned WHERE drive_id = $1 RETURNING 1", [driveId]);
    return { flipped: rows.length > 0, deliveries: 0 };
  }
  const { rows } = await db.query<{ flipped: number; deliveries: number }>(
    `WITH flipped AS (
       INSERT INTO ph_drive_budget_warned (drive_id) VALUES ($1) ON CONFLICT (drive_id) DO NOTHING RETURNING 1
     ), ${BUDGET_DELIVERIES_QUEUED}`,
    [driveId, "budget.drive_nearly_spent", JSON.stringify(payload)],
  );
  return { flipped: (rows[0]?.flipped ?? 0) > 0, deliveries: rows[0]?.deliveries ?? 0 };
}
