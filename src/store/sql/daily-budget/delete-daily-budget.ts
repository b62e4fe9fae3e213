import type { Queryable } from "../../db.js";

/** Removes the daily budget set while the agents run (TASK_BUDGET_USD_PER_DAY holds again); false when none was set. */
export async function deleteDailyBudget(db: Queryable): Promise<boolean> {
  const { rows } = await db.query("DELETE FROM ph_daily_budget WHERE id RETURNING 1");
  return rows.length > 0;
}
