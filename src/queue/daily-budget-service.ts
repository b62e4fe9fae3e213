/**
 * The daily budget set while the agents run, for the HTTP API and through it the CLI and the
 * dashboard (GET, PUT and DELETE /api/budgets/daily). A budget set wins over
 * TASK_BUDGET_USD_PER_DAY on every worker at once; `usdPerDay: null` holds runs to no daily budget
 * at all. A change is announced on the spend channel: every worker reads the budget again at once
 * (spend-budget.ts; should the announcement be lost, within BUDGET_REFRESH_MS), so tasks that waited
 * for a budget now raised start, a lowered one holds them saying so, and the webhooks that ask hear
 * once across workers that it is spent or has room (budget.spent, budget.available).
 */
import type { Logger } from "../logger.js";
import { CHANNELS } from "../store/db.js";
import type { SpendStore } from "../store/spend-store.js";
import { dailyBudgetEntry, type DailyBudgetEntry } from "../tasks/daily-budget-entry.js";
import { dollars } from "../tasks/spend-budget.js";
import { parseWith, ValidationError } from "../validation.js";
import { BudgetInputSchema, tellChange } from "./budget-input.js";

/** What a change is announced as on the spend channel: not a worker's id, so every worker reads again (its own too). */
export const BUDGET_SET_ANNOUNCEMENT = "budget set";

export class DailyBudgetService {
  constructor(
    private readonly store: SpendStore,
    /** TASK_BUDGET_USD_PER_DAY as this agent has it; undefined: none. */
    private readonly settingUsd: number | undefined,
    private readonly logger: Logger,
  ) {}

  get(): Promise<DailyBudgetEntry> {
    return dailyBudgetEntry(this.store, this.settingUsd);
  }

  /** `input`: { usdPerDay: number | null, reason? }; `setBy`: who asked. Returns the budget as it now is. */
  async set(input: unknown, setBy: string): Promise<DailyBudgetEntry> {
    const parsed = parseWith(BudgetInputSchema, input ?? {});
    if (!parsed.ok) throw new ValidationError("daily budget", parsed.errors);
    const { usdPerDay, reason } = parsed.value;
    await this.store.setDailyBudget(usdPerDay, reason, setBy);
    this.logger.info({ usdPerDay, setBy, reason }, `${setBy} set the daily budget to ${usdPerDay === null ? "none" : dollars(usdPerDay)} (ph-tasks budget daily)`);
    return this.changed("set", setBy);
  }

  /** Removes the budget set (TASK_BUDGET_USD_PER_DAY holds again): the budget as it now is, or undefined when none was set. */
  async remove(setBy: string): Promise<DailyBudgetEntry | undefined> {
    if (!(await this.store.removeDailyBudget())) return undefined;
    this.logger.info({ setBy }, `${setBy} removed the daily budget set with ph-tasks budget: TASK_BUDGET_USD_PER_DAY holds again`);
    return this.changed("removed", setBy);
  }

  /** Every worker reads it again; the webhooks that ask are told (budget.changed); the budget as it now is. */
  private async changed(change: "set" | "removed", by: string): Promise<DailyBudgetEntry> {
    await this.store.db.notify(CHANNELS.spend, BUDGET_SET_ANNOUNCEMENT);
    const entry = await this.get();
    await tellChange(this.store, this.logger, { kind: "daily", change, by, ...entry });
    return entry;
  }
}
