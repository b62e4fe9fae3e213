import type { Queryable } from "../../db.js";
import { BUDGET_DELIVERIES_QUEUED } from "./flip-budget-state.js";

/**
 * Records that the daily budget's spend has crossed its warning share (`near`) — only if it had not
 * — queuing in the same statement one `budget.nearly_spent` delivery for each enabled webhook that
 * asks; or (`near` false) that it is no longer past it (spent, or back under), which tells no one.
 * Of several workers seeing the same crossing, one flips it.
 */
export async function flipBudgetWarning(db: Queryable, near: boolean, payload: Record<string, unknown>): Promise<{ flipped: boolean; deliveries: number }> {
  if (!near) {
    const { rows } = await db.query("UPDATE ph_budget_state SET warned_since = NULL WHERE id = 1 AND warned_since IS NOT NULL RETURNING 1");
    return { flipped: rows.length > 0, deliveries: 0 };
  }
  const { rows } = await db.query<{ flipped: number; deliveries: number }>(
    `WITH flipped AS (
       UPDATE ph_budget_state SET warned_since = now() WHERE id = 1 AND warned_since IS NULL AND $1::boolean RETURNING 1 -- $1 is true here; named so the shared tail's $2 and $3 keep their places
     ), ${BUDGET_DELIVERIES_QUEUED}`,
    [near, "budget.nearly_spent", JSON.stringify(payload)],
  );
  return { flipped: (rows[0]?.flipped ?? 0) > 0, deliveries: rows[0]?.deliveries ?? 0 };
}
