import type { Queryable } from "../../db.js";
import { HOLDER_TABLES, type Holder } from "./budget-holder-tables.js";
import type { HolderBudgetRow } from "./holder-budget-row.js";

/** Sets `holder`'s budget (null: none), replacing one set before; the row as stored. */
export async function upsertHolderBudget(db: Queryable, holder: Holder, usdPerDay: number | null, reason: string, setBy: string): Promise<HolderBudgetRow> {
  const { budgets, key } = HOLDER_TABLES[holder.kind];
  const { rows } = await db.query<HolderBudgetRow>(
    `INSERT INTO ${budgets} (${key}, usd_per_day, reason, set_by) VALUES ($1, $2, $3, $4)
     ON CONFLICT (${key}) DO UPDATE SET usd_per_day = EXCLUDED.usd_per_day, reason = EXCLUDED.reason, set_by = EXCLUDED.set_by, set_at = now()
     RETURNING ${key} AS holder, usd_per_day, reason, set_by, set_at`,
    [holder.id, usdPerDay, reason, setBy],
  );
  const row = rows[0];
  if (!row) throw new Error(`the budget of ${holder.kind} '${holder.id}' was not stored`);
  return row;
}
