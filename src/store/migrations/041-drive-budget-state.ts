/**
 * Which drives' daily budgets are spent, as the workers last saw them (TASK_BUDGET_USD_PER_DRIVE_PER_DAY,
 * TASK_DRIVE_BUDGETS_USD_PER_DAY): a row while a drive's writers have spent theirs. The worker whose
 * insert (or delete) changes it tells the webhooks that ask (budget.drive_spent,
 * budget.drive_available), so each change is told once however many workers see it. Additive:
 * older agents neither read nor write it.
 */
export const name = "drive-budget-state";

export const statements = [
  `CREATE TABLE IF NOT EXISTS ph_drive_budget_state (
     drive_id text PRIMARY KEY,
     spent_since timestamptz NOT NULL DEFAULT now()
   )`,
];
