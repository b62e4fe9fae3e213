/**
 * Each drive's own daily budget (TASK_BUDGET_USD_PER_DRIVE_PER_DAY; a named drive's own,
 * TASK_DRIVE_BUDGETS_USD_PER_DAY; or one set while the agents run, `ph-tasks budget set`, which wins
 * over both): what the runs that one
 * drive's writers asked for — its task documents', its pipelines', the rules that its documents'
 * changes set off — may spend in the last 24 hours. Whoever may write a synced drive may ask for
 * Claude runs; without it one drive's writers could spend the whole daily budget
 * (TASK_BUDGET_USD_PER_DAY, spend-budget.ts) that every drive and the owner share. The owner's own
 * tasks (the API, the CLI, schedules, hooks) are not held by it: their task documents sit in the
 * agent's local drives, which no one else writes.
 *
 * Held as a task starts, not in the claim: the claim picks by type across every drive in one
 * statement, and a list of held drives there would weigh on every claim for a case that is rare
 * and concerns runs of seconds to minutes. The worker that claims a task of a type whose runs cost
 * money, asked for by a drive's writers, reads that drive's spend (one indexed query); spent, the
 * task goes back to the queue not to be claimed before the drive has room again — its attempt not
 * counted, its rank kept — and its document is told why and until when. Otherwise the run starts
 * capped at what is left of the drive's budget, when that is tighter than the daily budget's rest.
 */
import type { Logger } from "../logger.js";
import type { DriveBudgetRow, SpendStore } from "../store/spend-store.js";
import { driveBudgetsOf } from "./drive-budget-entries.js";
import type { TaskStore } from "../store/task-store.js";
import type { SpendCap } from "./executors/executor.js";
import { BUDGET_WINDOW_MS, DEFAULT_WARN_AT_PERCENT, dollars, nearlySpent, storedSetting, type Budget, type SpentBudget } from "./spend-budget.js";
import { writersDrive } from "./task-from-document.js";
import { logTransition } from "./task-events.js";
import type { Task } from "./types.js";
import type { WaitingReason } from "./waiting-reason.js";

/**
 * A drive's budget and the setting that gave it: TASK_DRIVE_BUDGETS_USD_PER_DAY (a named drive's
 * own), TASK_BUDGET_USD_PER_DRIVE_PER_DAY (the default), or "set by <who> (ph-tasks budget)" for
 * one set while the agents run (migration 042).
 */
export type DriveBudget = Budget;

/** A drive whose budget is spent: which, how much, and when it has room again. */
export interface SpentDriveBudget extends SpentBudget {
  driveId: string;
  /** From now (the store's clock). */
  freesInMs: number;
}

/** A drive's budget as just read, and whether its writers have spent it. */
export interface DriveBudgetReading {
  driveId: string;
  budget: DriveBudget;
  /** Spent; undefined: the drive has room. */
  spent: SpentDriveBudget | undefined;
  /** What its writers spent in the last 24 hours, and what is left of the budget (never below 0). */
  spentUsd: number;
  remainingUsd: number;
}

/** When a drive's spend could not be read, its task is tried again this much later (a budget is not skipped for a store's hiccup). */
export const DRIVE_READ_RETRY_MS = 30_000;
/** A held task waits at least this long: a spend just leaving the window is not claimed again and again within the same second. */
const MIN_WAIT_MS = 1000;
/** How many drives recorded as spent one look again reads (recheckSpent). */
const RECHECKED = 100;
/** How often a worker looks again at the drives recorded as spent. */
export const SPENT_DRIVES_RECHECK_MS = 60_000;
/** What is left of a drive's budget is kept this long after it was read, for the run that starts (its cap). */
const REMAINING_KEPT_MS = 60_000;

/** Why a task waits for its drive's budget, as `ph-tasks show`, the API and its document say it. */
export function driveBudgetReason(spent: SpentDriveBudget): WaitingReason {
  const until = new Date(spent.freesAt).toISOString();
  return {
    code: "drive_over_budget",
    message: `its drive's daily budget is spent (${dollars(spent.spentUsd)} of ${dollars(spent.limitUsd)} in the last 24 hours by drive ${spent.driveId}'s writers; ${spent.setting}); it starts at ${until}`,
    until,
  };
}

/** The tighter of the daily budget's rest and the drive's (either may be absent), with the setting that gave it. */
export function tighterCap(daily: Budget | undefined, drive: DriveBudget | undefined): SpendCap | undefined {
  if (drive !== undefined && (daily === undefined || drive.usd < daily.usd)) return { usd: drive.usd, from: "drive", setting: drive.setting };
  return daily === undefined ? undefined : { usd: daily.usd, from: "daily", setting: daily.setting };
}

/** The budgets a drive may be given: the default, named drives' own (the settings), and those set while the agents run. */
export interface DriveBudgetSources {
  /** US dollars per drive per 24 hours (TASK_BUDGET_USD_PER_DRIVE_PER_DAY); undefined: none. */
  defaultUsd: number | undefined;
  /** Named drives' own (TASK_DRIVE_BUDGETS_USD_PER_DAY), instead of the default. */
  named: Readonly<Record<string, number>>;
}

/**
 * `driveId`'s budget: the one set for it while the agents run (`stored`; its usd null: none at
 * all), else its own among the named, else the default; undefined for none (or no drive: the
 * owner's own tasks).
 */
export function driveBudgetOf(sources: DriveBudgetSources, driveId: string | null | undefined, stored: Pick<DriveBudgetRow, "usd_per_day" | "set_by"> | undefined): DriveBudget | undefined {
  if (driveId === null || driveId === undefined) return undefined;
  if (stored !== undefined) return stored.usd_per_day === null ? undefined : { usd: stored.usd_per_day, setting: storedSetting(stored) };
  if (Object.hasOwn(sources.named, driveId)) return { usd: sources.named[driveId] ?? 0, setting: "TASK_DRIVE_BUDGETS_USD_PER_DAY" };
  return sources.defaultUsd === undefined ? undefined : { usd: sources.defaultUsd, setting: "TASK_BUDGET_USD_PER_DRIVE_PER_DAY" };
}

export class DriveBudgets implements DriveBudgetSources {
  /** What was left of each drive's budget when a task of it last started. */
  private readonly remaining = new Map<string, DriveBudget & { at: number }>();

  constructor(
    private readonly store: SpendStore,
    readonly defaultUsd: number | undefined,
    readonly named: Readonly<Record<string, number>> = {},
    /** The share of a drive's budget whose crossing the webhooks are told (TASK_BUDGET_WARN_AT_PERCENT). */
    readonly warnAtPercent = DEFAULT_WARN_AT_PERCENT,
  ) {}

  /** The budget of `driveId`'s writers, its own set while the agents run first (one primary-key read); undefined: none. */
  async budgetOf(driveId: string | null | undefined): Promise<DriveBudget | undefined> {
    if (driveId === null || driveId === undefined) return undefined;
    return (await driveBudgetsOf(this.store.db, this, [driveId])).get(driveId);
  }

  /** Reads the budget and the spend of the drive whose writers asked for `task`; undefined: no drive, or no budget. */
  readFor(task: Pick<Task, "source">): Promise<DriveBudgetReading | undefined> {
    return this.readDrive(writersDrive(task.source));
  }

  /** Reads `driveId`'s budget and its writers' spend; undefined: no drive, or no budget. */
  async readDrive(driveId: string | undefined): Promise<DriveBudgetReading | undefined> {
    const budget = await this.budgetOf(driveId);
    if (driveId === undefined) return undefined;
    // None now (set so, or removed): a rest read under the one before must not cap the next run.
    if (budget === undefined) return void this.remaining.delete(driveId);
    const spend = await this.store.inWindow(BUDGET_WINDOW_MS, budget.usd, driveId);
    const now = Date.now();
    for (const [drive, read] of this.remaining) if (now - read.at > REMAINING_KEPT_MS) this.remaining.delete(drive);
    const remainingUsd = Math.max(0, budget.usd - spend.spentUsd);
    this.remaining.set(driveId, { usd: remainingUsd, setting: budget.setting, at: now });
    const read = { driveId, budget, spentUsd: spend.spentUsd, remainingUsd };
    if (spend.spentUsd < budget.usd) return { ...read, spent: undefined };
    const freesInMs = spend.freesInMs ?? 0;
    return { ...read, spent: { driveId, limitUsd: budget.usd, spentUsd: spend.spentUsd, freesAt: now + freesInMs, freesInMs, setting: budget.setting } };
  }

  /** Spent: the drive whose writers asked for `task` has spent its budget; undefined: room, no drive, no budget. */
  async spentFor(task: Pick<Task, "source">): Promise<SpentDriveBudget | undefined> {
    return (await this.readFor(task))?.spent;
  }

  /**
   * Records whether `driveId`'s budget is spent or has room (`reading` undefined: it has none now),
   * telling the webhooks that ask (budget.drive_spent, budget.drive_available) when this changed it —
   * once across workers (flip-drive-budget-state.ts).
   */
  async flip(driveId: string, reading: DriveBudgetReading | undefined): Promise<{ flipped: boolean; deliveries: number }> {
    const spent = reading?.spent;
    const payload = spent
      ? { driveId, budgetUsd: spent.limitUsd, spentUsd: spent.spentUsd, setting: spent.setting, windowHours: BUDGET_WINDOW_MS / 3_600_000, resumesAt: new Date(spent.freesAt).toISOString() }
      : { driveId, budgetUsd: reading?.budget.usd ?? null, remainingUsd: reading?.remainingUsd ?? null, setting: reading?.budget.setting ?? null };
    return this.store.flipDriveBudget(driveId, spent !== undefined, payload);
  }

  /**
   * Records whether `driveId`'s spend is past its budget's warning share and not spent, telling the
   * webhooks that ask (budget.drive_nearly_spent) when this crossed it — once across workers.
   */
  async warn(driveId: string, reading: DriveBudgetReading | undefined): Promise<{ flipped: boolean; deliveries: number }> {
    const near = reading !== undefined && nearlySpent(reading.spentUsd, reading.budget.usd, this.warnAtPercent);
    const payload = reading ? { driveId, budgetUsd: reading.budget.usd, spentUsd: reading.spentUsd, remainingUsd: reading.remainingUsd, percent: Math.floor((reading.spentUsd / reading.budget.usd) * 100), warnAtPercent: this.warnAtPercent, setting: reading.budget.setting } : {};
    return this.store.flipDriveWarning(driveId, near, payload);
  }

  /**
   * The drives recorded as spent, read again: one with room now (its costs left the window, or its
   * budget was raised or removed by a worker's settings) is recorded so and its webhooks told
   * (budget.drive_available) — also when its writers ask for nothing more, which no task's start
   * would tell. At most RECHECKED of them per call.
   */
  async recheckSpent(logger: Logger): Promise<void> {
    for (const driveId of await this.store.spentDrives(RECHECKED)) {
      const reading = await this.readDrive(driveId);
      if (!reading?.spent) await tellDriveWebhooks(this, logger, driveId, reading);
    }
  }

  /** What a run of `task` may still spend under its drive's budget, and whose budget that is, as read as it was about to start; undefined: no drive budget holds it. */
  remainingFor(task: Pick<Task, "source">): DriveBudget | undefined {
    const driveId = writersDrive(task.source);
    const read = driveId === undefined ? undefined : this.remaining.get(driveId);
    return read && { usd: read.usd, setting: read.setting };
  }
}

export interface DriveHoldDeps {
  budgets: DriveBudgets;
  store: TaskStore;
  workerId: string;
  logger: Logger;
  /** Told of a task returned to wait: it is pending again, and why (the document, the live views). */
  returned(task: Task, why: WaitingReason): void;
}

/** The webhooks told of a change of `driveId`'s budget (spent, room again, or none now); a failure only logged: the task's start does not wait on it. */
export async function tellDriveWebhooks(budgets: DriveBudgets, logger: Logger, driveId: string, reading: DriveBudgetReading | undefined): Promise<void> {
  try {
    const { flipped, deliveries } = await budgets.flip(driveId, reading);
    if (flipped && deliveries > 0) logger.info({ driveId, deliveries }, `told ${deliveries} webhook(s): ${reading?.spent ? "budget.drive_spent" : "budget.drive_available"} (drive ${driveId})`);
    const warned = await budgets.warn(driveId, reading);
    if (warned.flipped && warned.deliveries > 0) logger.info({ driveId, deliveries: warned.deliveries }, `told ${warned.deliveries} webhook(s): budget.drive_nearly_spent (drive ${driveId})`);
  } catch (error) {
    logger.warn({ err: error, driveId }, "recording whether the drive's budget is spent failed; its webhooks are told at its next task");
  }
}

/**
 * Before a claimed task of a type whose runs cost money starts: when its drive's budget is spent
 * (or its spend cannot be read), returns it to the queue until the drive has room (or for
 * DRIVE_READ_RETRY_MS). True when it went back — it must not run.
 */
export async function returnedForDriveBudget(deps: DriveHoldDeps, task: Task): Promise<boolean> {
  const driveId = writersDrive(task.source);
  if (driveId === undefined) return false;
  let why: WaitingReason;
  let afterMs: number;
  try {
    const reading = await deps.budgets.readFor(task);
    if (reading === undefined) return false;
    await tellDriveWebhooks(deps.budgets, deps.logger, driveId, reading);
    if (!reading.spent) return false;
    why = driveBudgetReason(reading.spent);
    afterMs = Math.max(MIN_WAIT_MS, reading.spent.freesInMs);
  } catch (error) {
    deps.logger.warn({ err: error, taskId: task.id }, "reading the budget or the spend of the task's drive failed; it goes back to the queue and is tried again shortly");
    afterMs = DRIVE_READ_RETRY_MS;
    const until = new Date(Date.now() + afterMs).toISOString();
    why = { code: "drive_over_budget", message: `its drive's budget or spend could not be read; tried again at ${until}`, until };
  }
  const back = await deps.store.release(deps.workerId, [task.id], "drive budget spent", afterMs);
  // Not released: its lease was lost meanwhile (another worker has it); not run here either way.
  if (back.length === 0) return true;
  const pending: Task = { ...task, status: "pending", attempts: Math.max(0, task.attempts - 1) };
  logTransition(deps.logger, pending, "returned to the queue (its drive's daily budget is spent)", { until: why.until });
  deps.returned(pending, why);
  return true;
}
