/**
 * Whose budget (a drive's writers', or one person's) and where each kind is kept. Budgets held per
 * drive (migrations 040–043) and per person (045, 047) work alike: a table of budgets set while the
 * agents run, one of those spent, one of those past their warning share, the column of
 * ph_run_costs that says whose a cost is, and what in a task's source says whose it is. The
 * statements of this folder take a kind and read the names from here: none comes from input.
 */
import type { ReleaseReason } from "../release-tasks.js";
import type { SpendGrouping } from "../spend/select-spend-grouped.js";

export type HolderKind = "drive" | "person";

export interface HolderTables {
  /** Budgets set while the agents run (ph_drive_budgets, ph_person_budgets). */
  budgets: string;
  /** The key column of the three tables. */
  key: string;
  /** A row while the holder's budget is spent. */
  spent: string;
  /** A row while the holder's spend is past the warning share and not spent. */
  warned: string;
  /** ph_run_costs' column naming whose a cost is. */
  costColumn: SpendGrouping;
  /** What in ph_tasks.source says whose a task is. */
  taskKey: string;
  /** The status reason a task sent back to wait for the budget is released with. */
  heldReason: ReleaseReason;
}

export const HOLDER_TABLES: Readonly<Record<HolderKind, HolderTables>> = {
  drive: { budgets: "ph_drive_budgets", key: "drive_id", spent: "ph_drive_budget_state", warned: "ph_drive_budget_warned", costColumn: "writers_drive", taskKey: "source ->> 'driveId'", heldReason: "drive budget spent" },
  person: { budgets: "ph_person_budgets", key: "person", spent: "ph_person_budget_state", warned: "ph_person_budget_warned", costColumn: "asked_by", taskKey: "source ->> 'by'", heldReason: "person budget spent" },
};

/** A holder: a drive (its writers) or a person, by id. */
export interface Holder {
  kind: HolderKind;
  id: string;
}
