/**
 * The daily budget as people read it (GET /api/budgets/daily, `ph-tasks budget daily`, the
 * dashboard's Budgets card, the spend report, doctor): the one set while the agents run
 * (migration 044), else TASK_BUDGET_USD_PER_DAY, with the last 24 hours' spend of every worker
 * and, spent, until when runs that cost money wait. Read fresh from the store.
 */
import type { SpendStore } from "../store/spend-store.js";
import { BUDGET_WINDOW_MS, dailyBudgetOf, storedSetting } from "./spend-budget.js";

/** A budget as people read it — the daily budget's, or a drive's (DriveBudgetEntry) — and the spend against it. */
export interface BudgetEntry {
  /** US dollars per 24 hours; null: held to no budget. */
  usdPerDay: number | null;
  /** Which setting gave it, or "set by <who> (ph-tasks budget)"; either followed by ": none", or "none". */
  setting: string;
  /** Set while the agents run: why, by whom, when; null when the settings hold. */
  reason: string | null;
  setBy: string | null;
  setAt: string | null;
  /** What the settings give: what holds once the budget set while the agents run is removed; null: none. */
  settingsUsd: number | null;
  spentUsd: number;
  runs: number;
  remainingUsd: number | null;
  /** Spent: when the runs it holds start again. */
  resumesAt: string | null;
}

/** The daily budget (settingsUsd: TASK_BUDGET_USD_PER_DAY as this agent has it). */
export type DailyBudgetEntry = BudgetEntry;

/** The daily budget now, whatever gives it (`settingUsd`: TASK_BUDGET_USD_PER_DAY), and the spend against it. */
export async function dailyBudgetEntry(store: SpendStore, settingUsd: number | undefined, now = Date.now()): Promise<DailyBudgetEntry> {
  const row = await store.dailyBudget();
  const budget = dailyBudgetOf(settingUsd, row);
  const spend = await store.inWindow(BUDGET_WINDOW_MS, budget?.usd ?? null);
  return {
    usdPerDay: budget?.usd ?? null,
    setting: budget?.setting ?? (row ? `${storedSetting(row)}: none` : "none"),
    reason: row?.reason ?? null,
    setBy: row?.set_by ?? null,
    setAt: row?.set_at.toISOString() ?? null,
    settingsUsd: settingUsd ?? null,
    spentUsd: spend.spentUsd,
    runs: spend.runs,
    remainingUsd: budget ? Math.max(0, budget.usd - spend.spentUsd) : null,
    resumesAt: budget && spend.freesInMs !== null ? new Date(now + spend.freesInMs).toISOString() : null,
  };
}

