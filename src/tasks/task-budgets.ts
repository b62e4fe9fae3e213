/**
 * The budgets a worker holds its tasks to, for the types whose runs cost money
 * (TaskExecutor.reportsCost): the daily budget across the store (spend-budget.ts), each drive's and
 * each person's (holder-budget.ts). What the manager asks of them: which types to leave out of its
 * claims, whether a claimed task must wait for its drive or for the person who asked instead of
 * starting, what a run may spend, and why a task waits.
 */
import type { EventEmitter } from "node:events";
import type { Logger } from "../logger.js";
import type { TaskMetrics } from "../metrics.js";
import { SpendStore } from "../store/spend-store.js";
import { rowToTask, type TaskStore } from "../store/task-store.js";
import { DRIVE_HOLDER, PERSON_HOLDER } from "./budget-holders.js";
import { holderBudgetReason, HolderBudgets, returnedForHolderBudget, tellHolderWebhooks, tightestCap, type HolderHoldDeps } from "./holder-budget.js";
import type { SpendCap } from "./executors/executor.js";
import type { ExecutorRegistry } from "./executors/registry.js";
import type { ManagerSettings } from "./manager-settings.js";
import { costOf, SpendBudget, type SpentBudget } from "./spend-budget.js";
import type { TaskLifecycleEvents } from "./task-events.js";
import type { Task } from "./types.js";
import { dailyBudgetReason, type WaitingReason, type WaitingSources } from "./waiting-reason.js";

/** How many queued tasks of each type are told that the daily budget, just spent, holds them. */
const HELD_TOLD = 500;

export interface TaskBudgetsDeps {
  store: TaskStore;
  registry: ExecutorRegistry;
  settings: Pick<ManagerSettings, "workerId" | "budgetUsdPerDay" | "budgetUsdPerDrivePerDay" | "driveBudgetsUsdPerDay" | "budgetUsdPerPersonPerDay" | "personBudgetsUsdPerDay" | "budgetWarnAtPercent">;
  logger: Logger;
  metrics?: TaskMetrics | undefined;
  /** The manager: told of a task sent back to wait for its drive ("queued", "waiting"). */
  events: EventEmitter<TaskLifecycleEvents>;
}

export class TaskBudgets {
  /** What runs cost, and the daily budget that holds the types whose runs cost money. */
  readonly daily: SpendBudget;
  /** Each drive's daily budget, held as its writers' tasks start. */
  readonly drives: HolderBudgets;
  /** Each person's daily budget, held as the tasks they asked for start. */
  readonly people: HolderBudgets;
  private readonly hold: HolderHoldDeps;
  private readonly spend: SpendStore;

  constructor(private readonly deps: TaskBudgetsDeps) {
    const { store, settings, logger, metrics, events } = deps;
    this.spend = new SpendStore(store.db);
    this.daily = new SpendBudget(this.spend, settings.workerId, settings.budgetUsdPerDay, logger, metrics, settings.budgetWarnAtPercent);
    this.drives = new HolderBudgets(DRIVE_HOLDER, this.spend, settings.budgetUsdPerDrivePerDay, settings.driveBudgetsUsdPerDay, settings.budgetWarnAtPercent);
    this.people = new HolderBudgets(PERSON_HOLDER, this.spend, settings.budgetUsdPerPersonPerDay, settings.personBudgetsUsdPerDay, settings.budgetWarnAtPercent);
    this.daily.onSpentFlipped = (spent) => void this.tellHeld(spent).catch((error: unknown) => logger.warn({ err: error }, "telling the queued tasks' documents that the daily budget holds them failed"));
    this.hold = {
      store,
      workerId: settings.workerId,
      logger,
      returned: (task, why, kind) => {
        metrics?.[kind.kind === "drive" ? "driveBudgetWaits" : "personBudgetWaits"].inc({ type: task.type });
        events.emit("queued", task);
        events.emit("waiting", task, why);
      },
    };
  }

  /** The budgets held per holder: each drive's writers', each person's. */
  private holders(): HolderBudgets[] {
    return [this.drives, this.people];
  }

  /**
   * At a worker's start: tasks a drive's or a person's budget sent back to wait are looked at again
   * under this worker's settings (a budget raised or removed since lets them run now; see
   * wake-holder-budget-holds.ts).
   */
  async wakeHolderHolds(): Promise<void> {
    try {
      const woken = await this.spend.wakeHolds();
      if (woken.length > 0) this.deps.logger.info({ tasks: woken.length }, `${woken.length} task(s) waiting for their drive's or their asker's daily budget looked at again under this worker's budgets`);
    } catch (error) {
      // Not a reason to stay down: they start at the time they were given.
      this.deps.logger.warn({ err: error }, "looking again at the tasks waiting for their drive's or their asker's budget failed; they start at the time they were given");
    }
  }

  /**
   * Records what a run cost (the daily budget reads the spend again) and, for a run a drive's
   * writers or a named person asked for, reads that budget again: the webhooks hear at once when
   * this run spent it or crossed its warning share, not at the holder's next task. Never throws:
   * the run's end is recorded after it.
   */
  async record(task: Task, attempt: number, result: unknown): Promise<void> {
    await this.daily.record(task, attempt, result);
    if (!costOf(result)) return;
    for (const budgets of this.holders()) {
      const id = budgets.kind.of(task.source);
      if (id === undefined) continue;
      try {
        const reading = await budgets.read(id);
        if (reading) await tellHolderWebhooks(budgets, this.deps.logger, id, reading);
      } catch (error) {
        this.deps.logger.warn({ err: error, [budgets.kind.idField]: id }, `reading the spend of ${budgets.kind.label(id)} after a run failed; its webhooks are told at its next task`);
      }
    }
  }

  /** The drives and people recorded as spent looked at again: those with room now told to the webhooks (holder-budget.ts recheckSpent); a failure logged. */
  async recheckSpentHolders(): Promise<void> {
    for (const budgets of this.holders()) {
      try {
        await budgets.recheckSpent(this.deps.logger);
      } catch (error) {
        this.deps.logger.warn({ err: error }, `looking again at the ${budgets.kind.kind === "drive" ? "drives" : "people"} whose budget was spent failed; tried again in a minute`);
      }
    }
  }

  /**
   * The daily budget was just recorded spent (by this worker, once across the store's): the tasks
   * it now holds — queued before, so no claim and no enqueue will say it — are told why and until
   * when, each as a "waiting" event (their documents get the notice). At most HELD_TOLD per type:
   * a queue that long has its reason on the dashboard and in `ph-tasks show`.
   */
  private async tellHeld(spent: SpentBudget): Promise<void> {
    const why = dailyBudgetReason(spent);
    let told = 0;
    for (const type of this.deps.registry.types().filter((t) => this.costsMoney(t))) {
      const { rows } = await this.deps.store.list({ status: ["pending"], type, limit: HELD_TOLD, offset: 0 });
      for (const row of rows) this.deps.events.emit("waiting", rowToTask(row), why);
      told += rows.length;
    }
    if (told > 0) this.deps.logger.info({ tasks: told }, `told ${told} queued task(s) that the daily budget holds them`);
  }

  /** Whether runs of `type` cost money (its executor says so). */
  costsMoney(type: string): boolean {
    return this.deps.registry.get(type)?.reportsCost === true;
  }

  /** Whether the daily budget, spent, holds tasks of `type` (left out of every claim). */
  holdsType(type: string): boolean {
    return this.daily.spent() !== undefined && this.costsMoney(type);
  }

  /** Why the daily budget, spent, holds `task` now (as this worker last read it); undefined: it does not. */
  dailyHold(task: Task): WaitingReason | undefined {
    const spent = this.costsMoney(task.type) ? this.daily.spent() : undefined;
    return spent && dailyBudgetReason(spent);
  }

  /**
   * Before a claimed task starts: true when its drive's budget, or that of the person who asked,
   * sent it back to wait (it must not run). The drive's is read first: a person's spend is not read
   * for a task its drive holds anyway.
   */
  async heldAtStart(task: Task): Promise<boolean> {
    if (!this.costsMoney(task.type)) return false;
    for (const budgets of this.holders()) if (await returnedForHolderBudget(this.hold, budgets, task)) return true;
    return false;
  }

  /** What a run of `task` may spend: the tightest of the daily budget's rest, its drive's and its asker's (as read as it started). */
  spendCap(task: Task): SpendCap | undefined {
    return tightestCap(this.daily.remaining(), this.holders().map((budgets) => [budgets.kind, budgets.remainingFor(task)] as const));
  }

  /** The budgets' part of why a task waits (waiting-reason.ts). */
  waitingSources(): Pick<WaitingSources, "budget" | "holderBudget" | "reportsCost"> {
    return {
      budget: this.daily,
      reportsCost: (type) => this.costsMoney(type),
      holderBudget: async (facts) => {
        for (const budgets of this.holders()) {
          const spent = await budgets.spentFor({ source: facts.source ?? undefined });
          if (spent) return holderBudgetReason(budgets.kind, spent);
        }
        return undefined;
      },
    };
  }
}
