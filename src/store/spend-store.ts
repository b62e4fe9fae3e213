/** What runs cost (migration 038): one interface over sql/spend/. */
import type { Db } from "./db.js";
import { deleteOldRunCosts } from "./sql/spend/delete-old-run-costs.js";
import { flipBudgetState } from "./sql/spend/flip-budget-state.js";
import { flipDriveBudgetState } from "./sql/spend/flip-drive-budget-state.js";
import { insertRunCost, type RunCost } from "./sql/spend/insert-run-cost.js";
import { selectCostliestTasks, type CostlyTaskRow } from "./sql/spend/select-costliest-tasks.js";
import { selectSpendByDay, type DaySpendRow } from "./sql/spend/select-spend-by-day.js";
import { selectSpendByDrive, type DriveSpendRow } from "./sql/spend/select-spend-by-drive.js";
import { selectWindowSpend, type WindowSpend } from "./sql/spend/select-window-spend.js";
import { wakeDriveBudgetHolds } from "./sql/spend/wake-drive-budget-holds.js";

export type { RunCost, CostlyTaskRow, DaySpendRow, DriveSpendRow, WindowSpend };

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

  costliestTasks(windowMs: number, limit: number): Promise<CostlyTaskRow[]> {
    return selectCostliestTasks(this.db, windowMs, limit);
  }

  /** Tasks waiting for their drive's budget made claimable now, to be looked at under this worker's budgets; their ids. */
  wakeDriveHolds(): Promise<string[]> {
    return wakeDriveBudgetHolds(this.db);
  }

  /** Records a drive's budget spent (or not), telling the webhooks if this call changed it. */
  flipDriveBudget(driveId: string, spent: boolean, payload: Record<string, unknown>): Promise<{ flipped: boolean; deliveries: number }> {
    return flipDriveBudgetState(this.db, driveId, spent, payload);
  }

  /** Records the budget spent (or not), telling the webhooks if this call changed it. */
  flipBudget(spent: boolean, payload: Record<string, unknown>): Promise<{ flipped: boolean; deliveries: number }> {
    return flipBudgetState(this.db, spent, payload);
  }

  deleteOlderThan(retentionMs: number): Promise<number> {
    return deleteOldRunCosts(this.db, retentionMs);
  }
}
