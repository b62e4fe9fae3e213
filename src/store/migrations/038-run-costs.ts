/**
 * What runs cost: one row per run that reported a cost in US dollars (a claude-code or
 * claude-agent run's `costUsd`, a plugin's that declares it), so that spend can be shown per day
 * and per type and held to a daily budget (TASK_BUDGET_USD_PER_DAY) across every worker of the
 * store. Keyed by the run (task, attempt): a run's cost counts once however often its end is
 * recorded. And ph_budget_state: whether that budget is spent, flipped by one worker each time.
 * Additive: older agents neither read nor write them.
 */
export const name = "run-costs";

export const statements = [
  `CREATE TABLE IF NOT EXISTS ph_run_costs (
     task_id text NOT NULL,
     attempt integer NOT NULL,
     task_type text NOT NULL,
     -- Where the task came from (its source), so that spend can be told per drive and document.
     drive_id text,
     document_id text,
     cost_usd double precision NOT NULL CHECK (cost_usd >= 0),
     recorded_at timestamptz NOT NULL DEFAULT now(),
     worker_id text NOT NULL,
     PRIMARY KEY (task_id, attempt)
   )`,
  // The budget's window (the last 24 hours), the spend per day and the retention's delete.
  "CREATE INDEX IF NOT EXISTS ph_run_costs_recorded_at ON ph_run_costs (recorded_at)",
  // Whether the daily budget is spent, as the workers last agreed: the one whose update flips it
  // tells the webhooks (budget.spent, budget.available), so each change is told once.
  `CREATE TABLE IF NOT EXISTS ph_budget_state (
     id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
     spent_since timestamptz
   )`,
  "INSERT INTO ph_budget_state (id) VALUES (1) ON CONFLICT (id) DO NOTHING",
];
