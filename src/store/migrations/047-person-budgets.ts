/**
 * A budget per person (TASK_BUDGET_USD_PER_PERSON_PER_DAY, TASK_PERSON_BUDGETS_USD_PER_DAY, or one
 * set while the agents run: `ph-tasks budget person set alice 5`): what the runs one named person
 * asked for (a task's `source.by`, as the agent proved it) may spend in the last 24 hours. The
 * three tables mirror a drive's (migrations 041–043): the budgets set while the agents run, which
 * people have spent theirs, and which are past the warning share — a row each, so that each change
 * is told to the webhooks once across workers. The spend is read from ph_run_costs.asked_by
 * (migration 045, indexed). Additive: older agents neither read nor write them (they hold no one to
 * a budget per person).
 */
export const name = "person-budgets";

export const statements = [
  `CREATE TABLE IF NOT EXISTS ph_person_budgets (
     person text PRIMARY KEY,
     usd_per_day float8 CHECK (usd_per_day IS NULL OR usd_per_day > 0),
     reason text NOT NULL DEFAULT '',
     set_by text NOT NULL,
     set_at timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE TABLE IF NOT EXISTS ph_person_budget_state (
     person text PRIMARY KEY,
     spent_since timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE TABLE IF NOT EXISTS ph_person_budget_warned (
     person text PRIMARY KEY,
     warned_since timestamptz NOT NULL DEFAULT now()
   )`,
];
