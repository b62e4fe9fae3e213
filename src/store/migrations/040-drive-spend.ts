/**
 * Spend per drive's writers: which drive's writers asked for each run that cost money — a task
 * document's drive, or the drive of the document a rule saw change — so that each drive can be
 * held to its own daily budget (TASK_BUDGET_USD_PER_DRIVE_PER_DAY): whoever may write a synced
 * drive may ask for Claude runs, and one drive's writers must not spend what every drive shares.
 * Null for the owner's own tasks (the API, the CLI, schedules, hooks), whose task documents sit in
 * the agent's local drives. Rows recorded before it have none. Additive: older agents neither
 * read nor write it.
 */
export const name = "drive-spend";

export const statements = [
  "ALTER TABLE ph_run_costs ADD COLUMN IF NOT EXISTS writers_drive text",
  // One drive's spend in the last 24 hours, read as each of its Claude runs starts.
  "CREATE INDEX IF NOT EXISTS ph_run_costs_writers_drive ON ph_run_costs (writers_drive, recorded_at) WHERE writers_drive IS NOT NULL",
];
