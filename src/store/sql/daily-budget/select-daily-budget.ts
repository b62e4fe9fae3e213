import type { Queryable } from "../../db.js";
import type { DailyBudgetRow } from "./daily-budget-row.js";

/** The daily budget set while the agents run (one primary-key read); undefined: none set, the setting holds. */
export async function selectDailyBudget(db: Queryable): Promise<DailyBudgetRow | undefined> {
  const { rows } = await db.query<DailyBudgetRow>("SELECT usd_per_day, reason, set_by, set_at FROM ph_daily_budget WHERE id");
  return rows[0];
}
