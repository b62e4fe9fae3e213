/**
 * Drive budgets set while the agents run (`ph-tasks budget set`, PUT /api/budgets/drives/:drive):
 * a row gives a drive's writers their own daily budget in US dollars, or (usd_per_day null) none at
 * all — a trusted drive let off the default. A row wins over the settings
 * (TASK_DRIVE_BUDGETS_USD_PER_DAY, TASK_BUDGET_USD_PER_DRIVE_PER_DAY), which need a restart of every
 * worker to change; every worker reads the row as a task of the drive starts, so a change holds
 * everywhere at once. Additive: an older agent neither reads nor writes it (it holds the drive to
 * its settings alone).
 */
export const name = "drive-budgets";

export const statements = [
  `CREATE TABLE IF NOT EXISTS ph_drive_budgets (
     drive_id text PRIMARY KEY,
     usd_per_day float8 CHECK (usd_per_day IS NULL OR usd_per_day > 0),
     reason text NOT NULL DEFAULT '',
     set_by text NOT NULL,
     set_at timestamptz NOT NULL DEFAULT now()
   )`,
];
