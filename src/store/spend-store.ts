/** What runs cost (migration 038): one interface over sql/spend/. */
import type { Db } from "./db.js";
import { deleteOldRunCosts } from "./sql/spend/delete-old-run-costs.js";
import { flipBudgetState } from "./sql/spend/flip-budget-state.js";
import { flipDriveBudgetState } from "./sql/spend/flip-drive-budget-state.js";
import { flipBudgetWarning } from "./sql/spend/flip-budget-warning.js";
import { flipDriveBudgetWarning } from "./sql/spend/flip-drive-budget-warning.js";
import { insertRunCost, type RunCost } from "./sql/spend/insert-run-cost.js";
import { selectCostliestTasks, type CostlyTaskRow } from "./sql/spend/select-costliest-tasks.js";
import { selectSpendByDay, type DaySpendRow } from "./sql/spend/select-spend-by-day.js";
import { selectSpendByDrive, type DriveSpendRow } from "./sql/spend/select-spend-by-drive.js";
import { selectSpendByPerson, type PersonSpendRow } from "./sql/spend/select-spend-by-person.js";
import { selectWindowSpend, type WindowSpend } from "./sql/spend/select-window-spend.js";
import { wakeDriveBudgetHolds } from "./sql/spend/wake-drive-budget-holds.js";
import { queueBudgetChange } from "./sql/spend/queue-budget-change.js";
import { selectSpendOfDrives } from "./sql/spend/select-spend-of-drives.js";
import { selectSpentDrives } from "./sql/spend/select-spent-drives.js";
import { countSpentDrives } from "./sql/spend/count-spent-drives.js";
import { deleteDriveBudget } from "./sql/drive-budgets/delete-drive-budget.js";
import type { DriveBudgetRow } from "./sql/drive-budgets/drive-budget-row.js";
import { listDriveBudgets } from "./sql/drive-budgets/list-drive-budgets.js";
import { upsertDriveBudget } from "./sql/drive-budgets/upsert-drive-budget.js";
import type { DailyBudgetRow } from "./sql/daily-budget/daily-budget-row.js";
import { selectDailyBudget } from "./sql/daily-budget/select-daily-budget.js";
import { upsertDailyBudget } from "./sql/daily-budget/upsert-daily-budget.js";
import { deleteDailyBudget } from "./sql/daily-budget/delete-daily-budget.js";

export type { RunCost, CostlyTaskRow, DaySpendRow, DriveSpendRow, PersonSpendRow, WindowSpend, DriveBudgetRow, DailyBudgetRow };

export class SpendStore {
  constructor(readonly db: Db) {}

  record(workerId: string, cost: RunCost): Promise<boolean> {
    return insertRunCost(this.db, workerId, cost);
  }

  /** The last `windowMs`'s spend, all of it or (`writersDrive`) what one drive's writers asked for. */
  inWindow(windowMs: number, budgetUsd: number | null, writersDrive?: string): Promise<WindowSpend> {
    return selectWindowSpend(this.db, windowMs, budgetUsd, writersDrive);
  }

  byDay(days: number): Promise<DaySpendRow[]> {
    return selectSpendByDay(this.db, days);
  }

  byDrive(windowMs: number, limit: number): Promise<DriveSpendRow[]> {
    return selectSpendByDrive(this.db, windowMs, limit);
  }

  byPerson(windowMs: number, limit: number): Promise<PersonSpendRow[]> {
    return selectSpendByPerson(this.db, windowMs, limit);
  }

  costliestTasks(windowMs: number, limit: number): Promise<CostlyTaskRow[]> {
    return selectCostliestTasks(this.db, windowMs, limit);
  }

  /** Spend in the last `windowMs` of each of `driveIds`' writers. */
  ofDrives(windowMs: number, driveIds: readonly string[]): Promise<DriveSpendRow[]> {
    return selectSpendOfDrives(this.db, windowMs, driveIds);
  }

  /** Tasks waiting for their drive's budget (one drive's, or every drive's) made claimable now, to be looked at under this worker's budgets; their ids. */
  wakeDriveHolds(driveId?: string): Promise<string[]> {
    return wakeDriveBudgetHolds(this.db, driveId);
  }

  /** Budgets set while the agents run (migration 042): of `driveIds`, or all. */
  driveBudgets(driveIds?: readonly string[]): Promise<DriveBudgetRow[]> {
    return listDriveBudgets(this.db, driveIds);
  }

  setDriveBudget(driveId: string, usdPerDay: number | null, reason: string, setBy: string): Promise<DriveBudgetRow> {
    return upsertDriveBudget(this.db, driveId, usdPerDay, reason, setBy);
  }

  removeDriveBudget(driveId: string): Promise<boolean> {
    return deleteDriveBudget(this.db, driveId);
  }

  /** The daily budget set while the agents run (migration 044); undefined: none, TASK_BUDGET_USD_PER_DAY holds. */
  dailyBudget(): Promise<DailyBudgetRow | undefined> {
    return selectDailyBudget(this.db);
  }

  setDailyBudget(usdPerDay: number | null, reason: string, setBy: string): Promise<DailyBudgetRow> {
    return upsertDailyBudget(this.db, usdPerDay, reason, setBy);
  }

  removeDailyBudget(): Promise<boolean> {
    return deleteDailyBudget(this.db);
  }

  /** The drives recorded as having spent their budget (at most `limit`). */
  spentDrives(limit: number): Promise<string[]> {
    return selectSpentDrives(this.db, limit);
  }

  /** How many drives are recorded as having spent their budget. */
  spentDriveCount(): Promise<number> {
    return countSpentDrives(this.db);
  }

  /** Records a drive's budget spent (or not), telling the webhooks if this call changed it. */
  flipDriveBudget(driveId: string, spent: boolean, payload: Record<string, unknown>): Promise<{ flipped: boolean; deliveries: number }> {
    return flipDriveBudgetState(this.db, driveId, spent, payload);
  }

  /** Records the daily budget past its warning share (or not), telling the webhooks if this call crossed it. */
  flipWarning(near: boolean, payload: Record<string, unknown>): Promise<{ flipped: boolean; deliveries: number }> {
    return flipBudgetWarning(this.db, near, payload);
  }

  /** Records a drive's budget past its warning share (or not), telling the webhooks if this call crossed it. */
  flipDriveWarning(driveId: string, near: boolean, payload: Record<string, unknown>): Promise<{ flipped: boolean; deliveries: number }> {
    return flipDriveBudgetWarning(this.db, driveId, near, payload);
  }

  /** Tells the webhooks that ask (budget.changed) that a budget was set, changed or removed while the agents run; how many deliveries. */
  tellBudgetChange(payload: Record<string, unknown>): Promise<number> {
    return queueBudgetChange(this.db, payload);
  }

  /** Records the budget spent (or not), telling the webhooks if this call changed it. */
  flipBudget(spent: boolean, payload: Record<string, unknown>): Promise<{ flipped: boolean; deliveries: number }> {
    return flipBudgetState(this.db, spent, payload);
  }

  deleteOlderThan(retentionMs: number): Promise<number> {
    return deleteOldRunCosts(this.db, retentionMs);
  }
}
