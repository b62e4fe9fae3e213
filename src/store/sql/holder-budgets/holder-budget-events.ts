import type { HolderKind } from "./budget-holder-tables.js";

/** The webhook events of a drive's daily budget: its writers have spent it, it has room again, its spend is past the warning share. */
export const DRIVE_BUDGET_EVENTS = ["budget.drive_spent", "budget.drive_available", "budget.drive_nearly_spent"] as const;
/** Likewise of one person's daily budget (what the runs that person asked for may spend). */
export const PERSON_BUDGET_EVENTS = ["budget.person_spent", "budget.person_available", "budget.person_nearly_spent"] as const;
export type HolderBudgetEvent = (typeof DRIVE_BUDGET_EVENTS)[number] | (typeof PERSON_BUDGET_EVENTS)[number];

/** Each kind's events: spent, available, nearly spent. */
export const HOLDER_EVENTS: Readonly<Record<HolderKind, { spent: HolderBudgetEvent; available: HolderBudgetEvent; nearlySpent: HolderBudgetEvent }>> = {
  drive: { spent: "budget.drive_spent", available: "budget.drive_available", nearlySpent: "budget.drive_nearly_spent" },
  person: { spent: "budget.person_spent", available: "budget.person_available", nearlySpent: "budget.person_nearly_spent" },
};
