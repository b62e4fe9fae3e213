/** A row of ph_drive_budgets (migration 042): a drive's budget set while the agents run. */
export interface DriveBudgetRow {
  drive_id: string;
  /** US dollars per 24 hours; null: the drive's writers are not held to any (the default left off). */
  usd_per_day: number | null;
  reason: string;
  /** Who set it: a named token's name, API_TOKEN, or loopback (as the audit log says it). */
  set_by: string;
  set_at: Date;
}
