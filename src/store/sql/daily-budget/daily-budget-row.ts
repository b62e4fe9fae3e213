/** The row of ph_daily_budget (migration 044): the daily budget set while the agents run. */
export interface DailyBudgetRow {
  /** US dollars per 24 hours; null: runs are held to no daily budget (TASK_BUDGET_USD_PER_DAY left off). */
  usd_per_day: number | null;
  reason: string;
  /** Who set it: a named token's name, API_TOKEN, or loopback (as the audit log says it). */
  set_by: string;
  set_at: Date;
}
