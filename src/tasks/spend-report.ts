/**
 * The spend as a person reads it (GET /api/spend, ph-tasks spend, the dashboard): the last 24
 * hours against the daily budget, each UTC day of the last `days` by type, and the tasks and the
 * source drives that cost most in the last 24 hours. Read fresh from the store: every worker's runs count.
 */
import type { SpendStore } from "../store/spend-store.js";
import { BUDGET_WINDOW_MS } from "./spend-budget.js";

export interface SpendReport {
  /** TASK_BUDGET_USD_PER_DAY as this agent has it; null: none. */
  budgetUsdPerDay: number | null;
  last24h: { usd: number; runs: number };
  /** What is left of the budget; null without one. */
  remainingUsd: number | null;
  /** With the budget spent: when runs that cost money start again. */
  resumesAt: string | null;
  days: { day: string; usd: number; runs: number; types: Record<string, number> }[];
  costliest: { taskId: string; type: string; title: string | null; usd: number; runs: number }[];
  /** The last 24 hours per source drive (null: tasks from no drive), the costliest first. */
  drives: { driveId: string | null; usd: number; runs: number }[];
}

export async function spendReport(store: SpendStore, budgetUsdPerDay: number | undefined, days: number, now = Date.now()): Promise<SpendReport> {
  const [window, perDay, costliest, drives] = await Promise.all([store.inWindow(BUDGET_WINDOW_MS, budgetUsdPerDay ?? null), store.byDay(days), store.costliestTasks(BUDGET_WINDOW_MS, 10), store.byDrive(BUDGET_WINDOW_MS, 10)]);
  const byDay = new Map<string, SpendReport["days"][number]>();
  for (const row of perDay) {
    const day = byDay.get(row.day) ?? { day: row.day, usd: 0, runs: 0, types: {} };
    day.usd += row.cost_usd;
    day.runs += row.runs;
    day.types[row.task_type] = row.cost_usd;
    byDay.set(row.day, day);
  }
  const budget = budgetUsdPerDay ?? null;
  return {
    budgetUsdPerDay: budget,
    last24h: { usd: window.spentUsd, runs: window.runs },
    remainingUsd: budget === null ? null : Math.max(0, budget - window.spentUsd),
    resumesAt: window.freesInMs === null ? null : new Date(now + window.freesInMs).toISOString(),
    days: [...byDay.values()],
    costliest: costliest.map((row) => ({ taskId: row.task_id, type: row.task_type, title: row.title, usd: row.cost_usd, runs: row.runs })),
    drives: drives.map((row) => ({ driveId: row.drive_id, usd: row.cost_usd, runs: row.runs })),
  };
}
