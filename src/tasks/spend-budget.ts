/**
 * What runs cost, and the daily budget across every worker of the store: the one set while the
 * agents run (`ph-tasks budget daily set`, migration 044), else TASK_BUDGET_USD_PER_DAY.
 *
 * A run that reports a cost (`costUsd`, or `totalCostUsd` as claude-code's result names it) has it
 * recorded once (spend-store.ts, keyed by task and attempt), whatever came of the run — a failed
 * Claude run cost money too. Each worker reads the budget set and, with a budget, the last 24
 * hours' spend (at start, when any worker records a cost or sets the budget — a notification —,
 * and every few seconds should one be missed): once it reaches the budget, the task
 * types whose runs cost money (TaskExecutor.reportsCost) are not claimed — their tasks wait,
 * saying why and until when — until enough of the spend is older than 24 hours. A run that
 * starts is told what is left (ExecutionContext.spendCapUsd): Claude runs stop there
 * (--max-budget-usd), so the budget is overrun by at most what the runs going at once spend past
 * their own share, and by each one's last turn. Each change — spent, room again — is recorded in
 * the store by whichever worker sees it first, which tells the webhooks that ask (budget.spent,
 * budget.available), once.
 */
import type { Logger } from "../logger.js";
import type { TaskMetrics } from "../metrics.js";
import { CHANNELS } from "../store/db.js";
import type { DailyBudgetRow, SpendStore, WindowSpend } from "../store/spend-store.js";
import { writersDrive } from "./task-from-document.js";
import type { Task } from "./types.js";

/** The budget's window: the last 24 hours, rolling. */
export const BUDGET_WINDOW_MS = 24 * 3_600_000;
/** How often each worker reads the spend again (others' runs count too). */
export const BUDGET_REFRESH_MS = 5_000;
/** Costs are kept this long for the spend per day (`ph-tasks spend`). */
export const RUN_COST_RETENTION_MS = 400 * 86_400_000;

/** The warning share of a daily budget when TASK_BUDGET_WARN_AT_PERCENT is not set. */
export const DEFAULT_WARN_AT_PERCENT = 80;

/** Past the warning share of a budget and not yet spent: the webhooks are told once as it crosses. */
export function nearlySpent(spentUsd: number, limitUsd: number, warnAtPercent: number): boolean {
  return spentUsd < limitUsd && spentUsd >= (limitUsd * warnAtPercent) / 100;
}

/** A run's cost in US dollars as its result reports it; undefined when it reports none. */
export function costOf(result: unknown): number | undefined {
  if (typeof result !== "object" || result === null) return undefined;
  const fields = result as { costUsd?: unknown; totalCostUsd?: unknown };
  const cost = typeof fields.costUsd === "number" ? fields.costUsd : fields.totalCostUsd;
  return typeof cost === "number" && Number.isFinite(cost) && cost >= 0 ? cost : undefined;
}

/** Dollars as people read them: to the cent, or to two significant figures below a cent. */
export function dollars(usd: number): string {
  return usd >= 0.01 || usd === 0 ? `$${usd.toFixed(2)}` : `$${usd.toPrecision(2)}`;
}

/** A budget and the setting that gave it, as people read it in messages. */
export interface Budget {
  usd: number;
  /**
   * The setting it comes from (TASK_BUDGET_USD_PER_DAY, a drive's TASK_DRIVE_BUDGETS_USD_PER_DAY or
   * TASK_BUDGET_USD_PER_DRIVE_PER_DAY), or "set by <who> (ph-tasks budget)" for one set while the
   * agents run (migrations 042, 044).
   */
  setting: string;
}

/** The setting the daily budget comes from when none is set while the agents run. */
export const DAILY_BUDGET_SETTING = "TASK_BUDGET_USD_PER_DAY";

/** How a budget set while the agents run is named in messages. */
export function storedSetting(row: { set_by: string }): string {
  return `set by ${row.set_by} (ph-tasks budget)`;
}

/**
 * The daily budget: the one set while the agents run (`stored`; its usd null: none at all), else
 * TASK_BUDGET_USD_PER_DAY (`settingUsd`); undefined: none.
 */
export function dailyBudgetOf(settingUsd: number | undefined, stored: Pick<DailyBudgetRow, "usd_per_day" | "set_by"> | undefined): Budget | undefined {
  if (stored !== undefined) return stored.usd_per_day === null ? undefined : { usd: stored.usd_per_day, setting: storedSetting(stored) };
  return settingUsd === undefined ? undefined : { usd: settingUsd, setting: DAILY_BUDGET_SETTING };
}

/** The budget spent: how much, and when runs may start again. */
export interface SpentBudget {
  limitUsd: number;
  spentUsd: number;
  /** When enough of the spend is older than the window (epoch ms, this machine's clock). */
  freesAt: number;
  /** Which setting gave the budget (Budget.setting). */
  setting: string;
}

const NO_SPEND: WindowSpend = { spentUsd: 0, runs: 0, freesInMs: null };

export class SpendBudget {
  private spend: WindowSpend = NO_SPEND;
  private readAt = 0;
  /** The budget as last read (before the first read: the setting's). */
  private budget: Budget | undefined;
  /** Whether the budget was spent at the last read (undefined: not read yet); a change is told once. */
  private spentAtLastRead: boolean | undefined;
  /** Whether the spend was past the warning share (and not spent) at the last read; undefined: not recorded yet. */
  private nearAtLastRead: boolean | undefined;
  /** Called when this worker's read is the one that recorded the budget spent, of all the store's (task-budgets.ts tells the tasks it holds). */
  onSpentFlipped: ((spent: SpentBudget) => void) | undefined;

  constructor(
    private readonly store: SpendStore,
    private readonly workerId: string,
    /** TASK_BUDGET_USD_PER_DAY, US dollars per 24 hours: what holds unless one is set while the agents run; undefined: none (costs are still recorded). */
    readonly settingUsd: number | undefined,
    private readonly logger: Logger,
    private readonly metrics?: TaskMetrics,
    /** The share of the budget whose crossing the webhooks are told (TASK_BUDGET_WARN_AT_PERCENT). */
    readonly warnAtPercent = DEFAULT_WARN_AT_PERCENT,
  ) {
    this.budget = dailyBudgetOf(settingUsd, undefined);
  }

  /** The daily budget in US dollars per 24 hours, as last read; undefined: none. */
  get limitUsd(): number | undefined {
    return this.budget?.usd;
  }

  /** Which setting gave the daily budget, as last read; undefined: none. */
  get setting(): string | undefined {
    return this.budget?.setting;
  }

  /** Records what a run cost, if it says, and reads the spend again. Never throws: the run's end is recorded after it. */
  async record(task: Pick<Task, "id" | "type" | "source">, attempt: number, result: unknown): Promise<void> {
    const costUsd = costOf(result);
    if (costUsd === undefined || costUsd === 0) return;
    try {
      if (!(await this.store.record(this.workerId, { taskId: task.id, attempt, taskType: task.type, driveId: task.source?.driveId, documentId: task.source?.documentId, writersDrive: writersDrive(task.source), askedBy: task.source?.by, costUsd }))) return;
      await this.store.db.notify(CHANNELS.spend, this.workerId);
    } catch (error) {
      // The task's end matters more than its line in the spend: recorded without it, and said.
      this.logger.error({ err: error, taskId: task.id, costUsd }, "recording a run's cost failed; it is missing from the spend and the budget");
      return;
    }
    this.metrics?.runCostUsd.inc({ type: task.type }, costUsd);
    // A failed read must not fail the run's end either (its lease would run the task again, spending again).
    await this.refresh().catch((error: unknown) => this.logger.warn({ err: error }, "reading the spend after a run failed; the next read tries again"));
  }

  /**
   * Reads the budget and the spend at once, and again whenever another worker records a cost or
   * the budget is set (`changed` is called when that changes whether it is spent). Returns the
   * unsubscribe function.
   */
  async follow(changed: () => void): Promise<() => Promise<void>> {
    await this.refresh();
    return this.store.db.listen(CHANNELS.spend, (from) => {
      if (from === this.workerId) return; // read already, as it recorded
      this.refresh().then((flipped) => flipped && changed(), (error: unknown) => this.logger.warn({ err: error }, "reading the spend failed; the next read tries again"));
    });
  }

  /**
   * Reads the budget set while the agents run (one primary-key read) and, with a budget, the spend;
   * true when whether it is spent changed.
   */
  async refresh(): Promise<boolean> {
    const before = this.spentAtLastRead;
    const budget = dailyBudgetOf(this.settingUsd, await this.store.dailyBudget());
    if (before !== undefined) this.sayChanged(budget);
    this.budget = budget;
    this.spend = budget === undefined ? NO_SPEND : await this.store.inWindow(BUDGET_WINDOW_MS, budget.usd);
    this.readAt = Date.now();
    const after = this.spent() !== undefined;
    this.spentAtLastRead = after;
    await this.warn();
    if (before === after) return false;
    if (after) this.logger.warn({ spentUsd: this.spend.spentUsd, limitUsd: this.limitUsd }, `the daily budget is spent (${dollars(this.spend.spentUsd)} of ${dollars(this.limitUsd ?? 0)} in 24 h; ${this.setting ?? DAILY_BUDGET_SETTING}): runs that cost money wait until ${new Date(this.freesAt()).toISOString()}`);
    else if (before) this.logger.info({ spentUsd: this.spend.spentUsd, limitUsd: this.limitUsd }, "the daily budget has room again: runs that cost money start");
    // Also on the first read: the store's record may be stale (every agent was down as it changed).
    await this.tell(after);
    return (before ?? false) !== after;
  }

  /** A budget set, changed or removed since the last read, said once in the log. */
  private sayChanged(budget: Budget | undefined): void {
    if (budget?.usd === this.budget?.usd && budget?.setting === this.budget?.setting) return;
    if (budget) this.logger.info({ limitUsd: budget.usd, setting: budget.setting }, `the daily budget is now ${dollars(budget.usd)} (${budget.setting})`);
    else this.logger.info("no daily budget now: runs that cost money are held to none (ph-tasks budget daily)");
  }

  /** Records the change for every worker; the one whose update made it queues the webhooks' deliveries. */
  private async tell(spent: boolean): Promise<void> {
    const payload = { spent, budgetUsdPerDay: this.limitUsd ?? null, setting: this.setting ?? null, last24hUsd: this.spend.spentUsd, resumesAt: spent ? new Date(this.freesAt()).toISOString() : null };
    try {
      const { flipped, deliveries } = await this.store.flipBudget(spent, payload);
      if (flipped && deliveries > 0) this.logger.info({ deliveries }, `told ${deliveries} webhook(s): ${spent ? "budget.spent" : "budget.available"}`);
      const held = flipped && spent ? this.spent() : undefined;
      if (held) this.onSpentFlipped?.(held);
    } catch (error) {
      this.logger.warn({ err: error }, "recording the budget's change for the webhooks failed; the next change is told");
    }
  }

  /**
   * Records for every worker whether the spend is past the warning share and not spent; the worker
   * whose update crosses it tells the webhooks (budget.nearly_spent). Written only when that changed
   * since this worker's last read (or on its first): not at every read.
   */
  private async warn(): Promise<void> {
    const limitUsd = this.limitUsd;
    // No budget (removed, or set to none): not past any share, so that a budget set again is warned of.
    const near = limitUsd !== undefined && nearlySpent(this.spend.spentUsd, limitUsd, this.warnAtPercent);
    if (near === this.nearAtLastRead) return;
    const payload = limitUsd === undefined ? {} : { budgetUsdPerDay: limitUsd, setting: this.setting, last24hUsd: this.spend.spentUsd, remainingUsd: Math.max(0, limitUsd - this.spend.spentUsd), percent: Math.floor((this.spend.spentUsd / limitUsd) * 100), warnAtPercent: this.warnAtPercent };
    try {
      const { flipped, deliveries } = await this.store.flipWarning(near, payload);
      this.nearAtLastRead = near;
      if (flipped && near) this.logger.warn({ spentUsd: this.spend.spentUsd, limitUsd, deliveries }, `the daily budget is nearly spent: ${dollars(this.spend.spentUsd)} of ${dollars(limitUsd)} in 24 h (${this.setting ?? DAILY_BUDGET_SETTING}; past ${this.warnAtPercent} %, TASK_BUDGET_WARN_AT_PERCENT)`);
    } catch (error) {
      this.logger.warn({ err: error }, "recording whether the daily budget is nearly spent failed; the next read tries again");
    }
  }

  /** The budget, when it is spent now (as last read). */
  spent(): SpentBudget | undefined {
    const budget = this.budget;
    if (budget === undefined || this.spend.spentUsd < budget.usd) return undefined;
    const freesAt = this.freesAt();
    // Past it, the oldest spend has left the window: room again, as the next read will confirm.
    return Date.now() < freesAt ? { limitUsd: budget.usd, spentUsd: this.spend.spentUsd, freesAt, setting: budget.setting } : undefined;
  }

  /** When the spend as last read is under the budget again (epoch ms, this machine's clock). */
  private freesAt(): number {
    return this.readAt + (this.spend.freesInMs ?? 0);
  }

  /** What a run may still spend under the budget, and which setting gave it (as last read); undefined without a budget. */
  remaining(): Budget | undefined {
    const budget = this.budget;
    return budget && { usd: Math.max(0, budget.usd - this.spend.spentUsd), setting: budget.setting };
  }
}
