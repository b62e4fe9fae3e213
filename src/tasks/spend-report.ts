/**
 * The spend as a person reads it (GET /api/spend, ph-tasks spend, the dashboard): the last 24
 * hours against the daily budget (one set while the agents run, else TASK_BUDGET_USD_PER_DAY), each UTC day of the last `days` by type, and the tasks and the
 * drives whose writers and the people who asked for most in the last 24 hours, each against its own
 * budget (TASK_BUDGET_USD_PER_DRIVE_PER_DAY, TASK_BUDGET_USD_PER_PERSON_PER_DAY, or one set while the
 * agents run). Read fresh from the store: every worker's runs count.
 */
import type { CostlyTaskRow, DaySpendRow, SpendStore } from "../store/spend-store.js";
import { DRIVE_HOLDER, PERSON_HOLDER, type BudgetHolder } from "./budget-holders.js";
import type { HolderBudgetSources } from "./holder-budget.js";
import { holderBudgetsOf, holderResumesAt } from "./holder-budget-entries.js";
import { BUDGET_WINDOW_MS, dailyBudgetOf, DEFAULT_WARN_AT_PERCENT, storedSetting } from "./spend-budget.js";

export interface SpendReport {
  /** The daily budget: one set while the agents run (ph-tasks budget daily), else TASK_BUDGET_USD_PER_DAY as this agent has it; null: none. */
  budgetUsdPerDay: number | null;
  /** Which of those gave it (TASK_BUDGET_USD_PER_DAY, or "set by <who> (ph-tasks budget)", also for none set so); null: none, by the settings. */
  budgetSetting: string | null;
  /** TASK_BUDGET_WARN_AT_PERCENT: the share of a budget whose crossing is warned of. */
  warnAtPercent: number;
  last24h: { usd: number; runs: number };
  /** What is left of the budget; null without one. */
  remainingUsd: number | null;
  /** With the budget spent: when runs that cost money start again. */
  resumesAt: string | null;
  days: { day: string; usd: number; runs: number; types: Record<string, number> }[];
  costliest: { taskId: string; type: string; title: string | null; usd: number; runs: number }[];
  /** TASK_BUDGET_USD_PER_DRIVE_PER_DAY as this agent has it; null: none. */
  budgetUsdPerDrivePerDay: number | null;
  /** TASK_BUDGET_USD_PER_PERSON_PER_DAY as this agent has it; null: none. */
  budgetUsdPerPersonPerDay: number | null;
  /**
   * The last 24 hours per drive whose writers asked (null: the owner's own tasks — the API, the
   * CLI, schedules, hooks), the costliest first; `budgetUsd`: the drive's own (a named one's, or
   * the default, or one set while the agents run; null: none), `budgetSetting` which of those;
   * `resumesAt`: with it spent, when the drive's Claude tasks start again.
   */
  drives: { driveId: string | null; usd: number; runs: number; budgetUsd: number | null; budgetSetting: string | null; resumesAt: string | null }[];
  /**
   * The last 24 hours per person who asked, as the agent proved it (a named token of API_USERS, a
   * named app key of TASK_AUTHORIZED_WRITERS; null: no one named — API_TOKEN, loopback, schedules,
   * hooks, an unnamed writer), the costliest first; `budgetUsd`, `budgetSetting`, `resumesAt` as
   * for the drives, of each person's own budget.
   */
  people: { by: string | null; usd: number; runs: number; budgetUsd: number | null; budgetSetting: string | null; resumesAt: string | null }[];
}

/** The daily budgets as this agent's settings give them (TASK_BUDGET_USD_PER_DAY, TASK_BUDGET_USD_PER_DRIVE_PER_DAY, TASK_DRIVE_BUDGETS_USD_PER_DAY); those set while the agents run are read from the store. */
export interface Budgets {
  perDay?: number | undefined;
  perDrive?: number | undefined;
  namedDrives?: Readonly<Record<string, number>> | undefined;
  /** TASK_BUDGET_USD_PER_PERSON_PER_DAY, TASK_PERSON_BUDGETS_USD_PER_DAY. */
  perPerson?: number | undefined;
  namedPeople?: Readonly<Record<string, number>> | undefined;
  /** TASK_BUDGET_WARN_AT_PERCENT (default 80). */
  warnAtPercent?: number | undefined;
}

export async function spendReport(store: SpendStore, budgets: Budgets, days: number, now = Date.now()): Promise<SpendReport> {
  const stored = await store.dailyBudget();
  const daily = dailyBudgetOf(budgets.perDay, stored);
  const budgetUsdPerDay = daily?.usd;
  const [window, perDay, costliest, drives, people] = await Promise.all([store.inWindow(BUDGET_WINDOW_MS, budgetUsdPerDay ?? null), store.byDay(days), store.costliestTasks(BUDGET_WINDOW_MS, 10), store.byDrive(BUDGET_WINDOW_MS, 10), store.byPerson(BUDGET_WINDOW_MS, 10)]);
  const [driveBudgets, personBudgets] = await Promise.all([
    againstBudgets(store, DRIVE_HOLDER, { defaultUsd: budgets.perDrive, named: budgets.namedDrives ?? {} }, drives.map((row) => ({ id: row.drive_id, usd: row.cost_usd })), now),
    againstBudgets(store, PERSON_HOLDER, { defaultUsd: budgets.perPerson, named: budgets.namedPeople ?? {} }, people.map((row) => ({ id: row.asked_by, usd: row.cost_usd })), now),
  ]);
  const budget = budgetUsdPerDay ?? null;
  return {
    budgetUsdPerDay: budget,
    budgetSetting: daily?.setting ?? (stored ? storedSetting(stored) : null),
    warnAtPercent: budgets.warnAtPercent ?? DEFAULT_WARN_AT_PERCENT,
    last24h: { usd: window.spentUsd, runs: window.runs },
    remainingUsd: budget === null ? null : Math.max(0, budget - window.spentUsd),
    resumesAt: window.freesInMs === null ? null : new Date(now + window.freesInMs).toISOString(),
    days: spendDays(perDay),
    costliest: costliestTasks(costliest),
    budgetUsdPerDrivePerDay: budgets.perDrive ?? null,
    budgetUsdPerPersonPerDay: budgets.perPerson ?? null,
    drives: drives.map((row, i) => ({ driveId: row.drive_id, usd: row.cost_usd, runs: row.runs, ...(driveBudgets[i] ?? NO_BUDGET) })),
    people: people.map((row, i) => ({ by: row.asked_by, usd: row.cost_usd, runs: row.runs, ...(personBudgets[i] ?? NO_BUDGET) })),
  };
}

/** Each UTC day's spend, all types together and by type, newest first. */
export function spendDays(rows: readonly DaySpendRow[]): SpendReport["days"] {
  const byDay = new Map<string, SpendReport["days"][number]>();
  for (const row of rows) {
    const day = byDay.get(row.day) ?? { day: row.day, usd: 0, runs: 0, types: {} };
    day.usd += row.cost_usd;
    day.runs += row.runs;
    day.types[row.task_type] = row.cost_usd;
    byDay.set(row.day, day);
  }
  return [...byDay.values()];
}

export function costliestTasks(rows: readonly CostlyTaskRow[]): SpendReport["costliest"] {
  return rows.map((row) => ({ taskId: row.task_id, type: row.task_type, title: row.title, usd: row.cost_usd, runs: row.runs }));
}

type AgainstBudget = { budgetUsd: number | null; budgetSetting: string | null; resumesAt: string | null };
const NO_BUDGET: AgainstBudget = { budgetUsd: null, budgetSetting: null, resumesAt: null };

/** Each row's holder's budget, and (at it) when it has room again: one more read for each spent (at most 10). */
async function againstBudgets(store: SpendStore, kind: BudgetHolder, sources: HolderBudgetSources, rows: { id: string | null; usd: number }[], now: number): Promise<AgainstBudget[]> {
  const budgets = await holderBudgetsOf(store.db, kind, sources, rows.flatMap((row) => (row.id === null ? [] : [row.id])));
  return Promise.all(rows.map(async ({ id, usd }) => {
    const budget = id === null ? undefined : budgets.get(id);
    if (id === null || budget === undefined) return NO_BUDGET;
    return { budgetUsd: budget.usd, budgetSetting: budget.setting, resumesAt: await holderResumesAt(store.db, kind, id, budget.usd, usd, now) };
  }));
}
