/**
 * Whose daily budget holds a task besides the store's: the drive whose writers asked for it
 * (TASK_BUDGET_USD_PER_DRIVE_PER_DAY — whoever may write a synced drive may ask for Claude runs)
 * and the person who asked, as the agent proved it (TASK_BUDGET_USD_PER_PERSON_PER_DAY — one named
 * API user or app key must not spend what everyone shares). Both work alike (holder-budget.ts);
 * what differs is said here: who a task's holder is, the settings, and the words of the messages.
 */
import type { HolderKind } from "../store/sql/holder-budgets/budget-holder-tables.js";
import { writersDrive } from "./task-from-document.js";
import type { TaskSource } from "./types.js";

export interface BudgetHolder {
  kind: HolderKind;
  /** Whose budget holds a task of `source`; undefined: none of this kind (the owner's own task, no one named). */
  of(source: TaskSource | undefined): string | undefined;
  /** The setting of every holder's default budget, and that of named holders' own. */
  defaultSetting: string;
  namedSetting: string;
  /** The field naming the holder in webhooks' payloads and the API's entries. */
  idField: "driveId" | "person";
  /** The waiting reason's code. */
  waitingCode: "drive_over_budget" | "person_over_budget";
  /** The budget as a run's cap and a log line name it. */
  name: string;
  /** "drive team", "alice": the holder in a sentence. */
  label(id: string): string;
  /** Whose budget a waiting task's reason names, before "is spent". */
  budgetOf(id: string): string;
  /** Whose spend it is, after "in the last 24 hours". */
  spentBy(id: string): string;
}

export const DRIVE_HOLDER: BudgetHolder = {
  kind: "drive",
  of: writersDrive,
  defaultSetting: "TASK_BUDGET_USD_PER_DRIVE_PER_DAY",
  namedSetting: "TASK_DRIVE_BUDGETS_USD_PER_DAY",
  idField: "driveId",
  waitingCode: "drive_over_budget",
  name: "its drive's daily budget",
  label: (id) => `drive ${id}`,
  budgetOf: () => "its drive's daily budget",
  spentBy: (id) => `by drive ${id}'s writers`,
};

export const PERSON_HOLDER: BudgetHolder = {
  kind: "person",
  of: (source) => source?.by,
  defaultSetting: "TASK_BUDGET_USD_PER_PERSON_PER_DAY",
  namedSetting: "TASK_PERSON_BUDGETS_USD_PER_DAY",
  idField: "person",
  waitingCode: "person_over_budget",
  name: "the daily budget of the person who asked",
  label: (id) => id,
  budgetOf: (id) => `the daily budget of ${id}, who asked for it,`,
  spentBy: (id) => `on what ${id} asked for`,
};

export const HOLDERS: Readonly<Record<HolderKind, BudgetHolder>> = { drive: DRIVE_HOLDER, person: PERSON_HOLDER };
