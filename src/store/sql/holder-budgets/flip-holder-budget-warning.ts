import type { Queryable } from "../../db.js";
import { BUDGET_DELIVERIES_QUEUED } from "../spend/flip-budget-state.js";
import { HOLDER_TABLES, type Holder } from "./budget-holder-tables.js";
import { HOLDER_EVENTS } from "./holder-budget-events.js";

/**
 * Records that `holder`'s spend has crossed its budget's warning share (`near`: a row) — only if it
 * had not — queuing in the same statement one delivery (budget.drive_nearly_spent,
 * budget.person_nearly_spent) for each enabled webhook that asks; or (`near` false) that it is no
 * longer past it (spent, back under, or no budget now: the row removed), which tells no one. Of
 * several workers seeing the same crossing, one flips it.
 */
export async function flipHolderBudgetWarning(db: Queryable, holder: Holder, near: boolean, payload: Record<string, unknown>): Promise<{ flipped: boolean; deliveries: number }> {
  const { warned, key } = HOLDER_TABLES[holder.kind];
  if (!near) {
    const { rows } = await db.query(`DELETE FROM ${warned} WHERE ${key} = $1 RETURNING 1`, [holder.id]);
    return { flipped: rows.length > 0, deliveries: 0 };
  }
  const { rows } = await db.query<{ flipped: number; deliveries: number }>(
    `WITH flipped AS (
       INSERT INTO ${warned} (${key}) VALUES ($1) ON CONFLICT (${key}) DO NOTHING RETURNING 1
     ), ${BUDGET_DELIVERIES_QUEUED}`,
    [holder.id, HOLDER_EVENTS[holder.kind].nearlySpent, JSON.stringify(payload)],
  );
  return { flipped: (rows[0]?.flipped ?? 0) > 0, deliveries: rows[0]?.deliveries ?? 0 };
}
