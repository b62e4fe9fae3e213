/** A row of ph_drive_budgets (migration 042) or ph_person_budgets (047): a holder's budget set while the agents run. */
export interface HolderBudgetRow {
  /** The drive id, or the person's name. */
  holder: string;
  /** US dollars per 24 hours; null: not held to any (the default left off). */
  usd_per_day: number | null;
  reason: string;
  /** Who set it: a named token's name, API_TOKEN, or loopback (as the audit log says it). */
  set_by: string;
  set_at: Date;
}
