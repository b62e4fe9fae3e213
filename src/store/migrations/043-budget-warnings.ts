/**
 * Budget warnings (TASK_BUDGET_WARN_AT_PERCENT): whether the daily budget's spend has crossed the
 * warning share (ph_budget_state.warned_since) and which drives' have (a row in
 * ph_drive_budget_warned while they are past it and not yet spent). Whichever worker's update
 * changes it tells the webhooks that ask (budget.nearly_spent, budget.drive_nearly_spent), so each
 * crossing is told once however many workers see it. Additive: older agents neither read nor write them.
 */
export const name = "budget-warnings";

export const statements = [
  "ALTER TABLE ph_budget_state ADD COLUMN IF NOT EXISTS warned_since timestamptz",
  `CREATE TABLE IF NOT EXISTS ph_drive_budget_warned (
     drive_id text PRIMARY KEY,
     warned_since timestamptz NOT NULL DEFAULT now()
   )`,
];
