/**
 * The daily budget set while the agents run (`ph-tasks budget daily set`, PUT /api/budgets/daily):
 * one row, whose usd_per_day holds every worker's runs that cost money to a budget in US dollars
 * per 24 hours, or (null) to none at all. It wins over TASK_BUDGET_USD_PER_DAY, which needs a
 * restart of every worker to change; each worker reads the row with the spend (at start, when a
 * change is announced, and every few seconds), so a change holds everywhere at once. Additive: an
 * older agent neither reads nor writes it (it holds to its setting alone).
 */
export const name = "daily-budget";

export const statements = [
  `CREATE TABLE IF NOT EXISTS ph_daily_budget (
     id boolean PRIMARY KEY DEFAULT true CHECK (id),
     usd_per_day float8 CHECK (usd_per_day IS NULL OR usd_per_day > 0),
     reason text NOT NULL DEFAULT '',
     set_by text NOT NULL,
     set_at timestamptz NOT NULL DEFAULT now()
   )`,
];
