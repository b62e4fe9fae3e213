/** What runs cost (migration 038): one interface over sql/spend/ and the budgets over sql/daily-budget/ and sql/holder-budgets/. */
import type { Db } from "./db.js";
import { deleteOldRunCosts } from "./sql/spend/delete-old-run-costs.js";
import { flipBudgetState } from "./sql/spend/flip-budget-state.js";
import { flipBudgetWarning } from "./sql/spend/flip-budget-warning.js";
import { insertRunCost, type RunCost } from "./sql/spend/insert-run-cost.js";
import { selectCostliestTasks, type CostlyTaskRow } from "./sql/spend/select-costliest-tasks.js";
import { selectSpendByDay, type DaySpendRow } from "./sql/spend/select-spend-by-day.js";
import { selectSpendByDrive, type DriveSpendRow } from "./sql/spend/select-spend-by-drive.js";
import { selectSpendByPerson, type PersonSpendRow } from "./sql/spend/select-spend-by-person.js";
import { selectWindowSpend, type WindowSpend } from "./sql/spend/select-window-spend.js";
import { queueBudgetChange } from "./sql/spend/queue-budget-change.js";
import type { DailyBudgetRow } from "./sql/daily-budget/daily-budget-row.js";
import { selectDailyBudget } from "./sql/daily-budget/select-daily-budget.js";
import { upsertDailyBudget } from "./sql/daily-budget/upsert-daily-budget.js";
import { deleteDailyBudget } from "./sql/daily-budget/delete-daily-budget.js";
import type { Holder, HolderKind } from "./sql/holder-budgets/budget-holder-tables.js";
import type { HolderBudgetRow } from "./sql/holder-budgets/holder-budget-row.js";
import { listHolderBudgets } from "./sql/holder-budgets/list-holder-budgets.js";
import { upsertHolderBudget } from "./sql/holder-budgets/upsert-holder-budget.js";
import { deleteHolderBudget } from "./sql/holder-budgets/delete-holder-budget.js";
import { flipHolderBudgetState } from "./sql/holder-budgets/flip-holder-budget-state.js";
import { flipHolderBudgetWarning } from "./sql/holder-budgets/flip-holder-budget-warning.js";
import { selectSpentHolders } from "./sql/holder-budgets/select-spent-holders.js";
import { countSpentHolders } from "./sql/holder-budgets/count-spent-holders.js";
import { selectSpendOfHolders, type HolderSpendRow } from "./sql/holder-budgets/select-spend-of-holders.js";
import { wakeHolderBudgetHolds } from "./sql/holder-budgets/wake-holder-budget-holds.js";

export type { RunCost, CostlyTaskRow, DaySpendRow, DriveSpendRow, PersonSpendRow, WindowSpend, HolderBudgetRow, HolderSpendRow, DailyBudgetRow, Holder, HolderKind };

export class SpendStore {
  constructor(readonly db: Db) {}

  record(workerId: string, cost: RunCost): Promise<boolean> {
    return insertRunCost(this.db, workerId, cost);
  }

  /** The last `windowMs`'s spend, all of it or (`holder`) what one drive's writers, or one person, asked for. */
  inWindow(windowMs: number, budgetUsd: number | null, holder?: Holder): Promise<WindowSpend> {
    return selectWindowSpend(this.db, windowMs, budgetUsd, holder);
  }

  byDay(days: number, holder?: Holder): Promise<DaySpendRow[]> {
    return selectSpendByDay(this.db, days, holder);
  }

  byDrive(windowMs: number, limit: number): Promise<DriveSpendRow[]> {
    return selectSpendByDrive(this.db, windowMs, limit);
  }

  byPerson(windowMs: number, limit: number): Promise<PersonSpendRow[]> {
    return selectSpendByPerson(this.db, windowMs, limit);
  }

  costliestTasks(windowMs: number, limit: number, holder?: Holder): Promise<CostlyTaskRow[]> {
    return selectCostliestTasks(this.db, windowMs, limit, holder);
  }

  /** Spend in the last `windowMs` of each of `ids` (drives' writers, or people). */
  ofHolders(kind: HolderKind, windowMs: number, ids: readonly string[]): Promise<HolderSpendRow[]> {
    return selectSpendOfHolders(this.db, kind, windowMs, ids);
  }

  /** Tasks waiting for a drive's or a person's budget (one holder's, or every one's) made claimable now, to be looked at under this worker's budgets; their ids. */
  wakeHolds(holder?: Holder): Promise<string[]> {
    return wakeHolderBudgetHolds(this.db, holder);
  }

  /** Budgets of `kind` set while the agents run (migrations 042, 047): of `ids`, or all (at most `limit`). */
  holderBudgets(kind: HolderKind, ids?: readonly string[], limit?: number): Promise<HolderBudgetRow[]> {
    return listHolderBudgets(this.db, kind, ids, limit);
  }

  setHolderBudget(holder: Holder, usdPerDay: number | null, reason: string, setBy: string): Promise<HolderBudgetRow> {
    return upsertHolderBudget(this.db, holder, usdPerDay, reason, setBy);
  }

  removeHolderBudget(holder: Holder): Promise<boolean> {
    return deleteHolderBudget(this.db, holder);
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

  /** The holders of `kind` recorded as having spent their budget (at most `limit`). */
  spentHolders(kind: HolderKind, limit: number): Promise<string[]> {
    return selectSpentHolders(this.db, kind, limit);
  }

  /** How many holders of `kind` are recorded as having spent their budget. */
  spentHolderCount(kind: HolderKind): Promise<number> {
    return countSpentHolders(this.db, kind);
  }

  /** Records a holder's budget spent (or not), telling the webhooks if this call changed it. */
  flipHolderBudget(holder: Holder, spent: boolean, payload: Record<string, unknown>): Promise<{ flipped: boolean; deliveries: number }> {
    return flipHolderBudgetState(this.db, holder, spent, payload);
  }

  /** Records a holder's budget past its warning share (or not), telling the webhooks if this call crossed it. */
  flipHolderWarning(holder: Holder, near: boolean, payload: Record<string, unknown>): Promise<{ flipped: boolean; deliveries: number }> {
    return flipHolderBudgetWarning(this.db, holder, near, payload);
  }

  /** Records the daily budget past its warning share (or not), telling the webhooks if this call crossed it. */
  flipWarning(near: boolean, payload: Record<string, unknown>): Promise<{ flipped: boolean; deliveries: number }> {
    return flipBudgetWarning(this.db, near, payload);
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
