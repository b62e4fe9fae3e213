/**
 * Drive budgets as people read them (GET /api/budgets/drives, `ph-tasks budget`, the spend report,
 * doctor): each drive's budget from wherever it comes — set while the agents run (migration 042),
 * named in TASK_DRIVE_BUDGETS_USD_PER_DAY, or the default — with what its writers spent in the last
 * 24 hours and, spent, until when its Claude tasks wait. Read fresh from the store.
 */
import type { Queryable } from "../store/db.js";
import type { DriveBudgetRow } from "../store/sql/drive-budgets/drive-budget-row.js";
import { listDriveBudgets } from "../store/sql/drive-budgets/list-drive-budgets.js";
import { selectSpendOfDrives } from "../store/sql/spend/select-spend-of-drives.js";
import { selectWindowSpend } from "../store/sql/spend/select-window-spend.js";
import { driveBudgetOf, type DriveBudget, type DriveBudgetSources } from "./drive-budget.js";
import { BUDGET_WINDOW_MS } from "./spend-budget.js";
import type { BudgetEntry } from "./daily-budget-entry.js";

/** At most this many budgets set while the agents run are listed (the named settings all are). */
export const LISTED_STORED = 1000;

/** A drive's budget (setting: TASK_DRIVE_BUDGETS_USD_PER_DAY, TASK_BUDGET_USD_PER_DRIVE_PER_DAY or one set while the agents run; settingsUsd: its named one, or the default). */
export interface DriveBudgetEntry extends BudgetEntry {
  driveId: string;
}

/** The budgets of `driveIds` (a drive without one absent), the ones set while the agents run read in one query. */
export async function driveBudgetsOf(db: Queryable, sources: DriveBudgetSources, driveIds: readonly string[]): Promise<Map<string, DriveBudget>> {
  const stored = new Map((driveIds.length === 0 ? [] : await listDriveBudgets(db, driveIds)).map((row) => [row.drive_id, row]));
  const budgets = new Map<string, DriveBudget>();
  for (const driveId of driveIds) {
    const budget = driveBudgetOf(sources, driveId, stored.get(driveId));
    if (budget) budgets.set(driveId, budget);
  }
  return budgets;
}

/** When a drive that has spent `limitUsd` has room again (ISO), or null while it has room. */
export async function driveResumesAt(db: Queryable, driveId: string, limitUsd: number, spentUsd: number, now = Date.now()): Promise<string | null> {
  if (spentUsd < limitUsd) return null;
  const frees = (await selectWindowSpend(db, BUDGET_WINDOW_MS, limitUsd, driveId)).freesInMs;
  return frees === null ? null : new Date(now + frees).toISOString();
}

/** Every drive with a budget of its own (set while the agents run, or named in the settings), by drive id. */
export async function listDriveBudgetEntries(db: Queryable, sources: DriveBudgetSources, now = Date.now()): Promise<DriveBudgetEntry[]> {
  const stored = await listDriveBudgets(db, undefined, LISTED_STORED);
  const ids = [...new Set([...stored.map((row) => row.drive_id), ...Object.keys(sources.named)])].sort();
  const spend = new Map((ids.length === 0 ? [] : await selectSpendOfDrives(db, BUDGET_WINDOW_MS, ids)).map((row) => [row.drive_id, row]));
  const byId = new Map(stored.map((row) => [row.drive_id, row]));
  return Promise.all(ids.map((driveId) => entryOf(db, sources, driveId, byId.get(driveId), spend.get(driveId) ?? { cost_usd: 0, runs: 0 }, now)));
}

/** One drive's entry, whatever gives it its budget (the default too, or none). */
export async function driveBudgetEntry(db: Queryable, sources: DriveBudgetSources, driveId: string, now = Date.now()): Promise<DriveBudgetEntry> {
  const [[row], [spend]] = await Promise.all([listDriveBudgets(db, [driveId]), selectSpendOfDrives(db, BUDGET_WINDOW_MS, [driveId])]);
  return entryOf(db, sources, driveId, row, spend ?? { cost_usd: 0, runs: 0 }, now);
}

async function entryOf(db: Queryable, sources: DriveBudgetSources, driveId: string, row: DriveBudgetRow | undefined, spend: { cost_usd: number; runs: number }, now: number): Promise<DriveBudgetEntry> {
  const budget = driveBudgetOf(sources, driveId, row);
  return {
    driveId,
    usdPerDay: budget?.usd ?? null,
    setting: budget?.setting ?? (row ? `set by ${row.set_by} (ph-tasks budget): none` : "none"),
    reason: row?.reason ?? null,
    setBy: row?.set_by ?? null,
    setAt: row?.set_at.toISOString() ?? null,
    settingsUsd: driveBudgetOf(sources, driveId, undefined)?.usd ?? null,
    spentUsd: spend.cost_usd,
    runs: spend.runs,
    remainingUsd: budget ? Math.max(0, budget.usd - spend.cost_usd) : null,
    resumesAt: budget ? await driveResumesAt(db, driveId, budget.usd, spend.cost_usd, now) : null,
  };
}
