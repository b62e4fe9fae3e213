import type { Queryable } from "../../db.js";
import { BUDGET_DELIVERIES_QUEUED } from "../spend/flip-budget-state.js";
import { HOLDER_TABLES, type Holder } from "./budget-holder-tables.js";
import { HOLDER_EVENTS } from "./holder-budget-events.js";

/**
 * Records that `holder`'s budget is spent (a row) or has room again (none) — only if it was not
 * already so — and in the same statement queues one delivery of the change to each enabled
 * webhook that asks for it (budget.drive_spent / _available, budget.person_spent / _available).
 * Of several workers seeing the same change, one flips it.
 */
export async function flipHolderBudgetState(db: Queryable, holder: Holder, spent: boolean, payload: Record<string, unknown>): Promise<{ flipped: boolean; deliveries: number }> {
  const { spent: table, key } = HOLDER_TABLES[holder.kind];
  const events = HOLDER_EVENTS[holder.kind];
  const change = spent
    ? `INSERT INTO ${table} (${key}) VALUES ($1) ON CONFLICT (${key}) DO NOTHING RETURNING 1`
    : `DELETE FROM ${table} WHERE ${key} = $1 RETURNING 1`;
  const { rows } = await db.query<{ flipped: number; deliveries: number }>(
    `WITH flipped AS (${change}), ${BUDGET_DELIVERIES_QUEUED}`,
    [holder.id, spent ? events.spent : events.available, JSON.stringify(payload)],
  );
  return { flipped: (rows[0]?.flipped ?? 0) > 0, deliveries: rows[0]?.deliveries ?? 0 };
}
