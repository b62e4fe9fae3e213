import type { Queryable } from "../../db.js";
import type { DailyBudgetRow } from "./daily-budget-row.js";

/** Sets the daily budget (null: none), replacing one set before; the row as stored. */
export async function upsertDailyBudget(db: Queryable, usdPerDay: number | null, reason: string, setBy: string): Promise<DailyBudgetRow> {
  const { rows } = await db.query<DailyBudgetRow>(
    `INSERT INTO ph_daily_budget (id, usd_per_day, reason, set_by) VALUES (true, $1, $2, $3)
     ON CONFLICT (id) DO UPDATE SET usd_per_day = EXCLUDED.usd_per_day, reason = EXCLUDED.reason, set_by = EXCLUDED.set_by, set_at = now()
     RETURNING usd_per_day, reason, set_by, set_at`,
    [usdPerDay, reason, setBy],
  );
  const row = rows[0];
  if (!row) throw new Error("the daily budget was not stored");
  return row;
}
