/**
 * Each drive's own daily budget (TASK_BUDGET_USD_PER_DRIVE_PER_DAY): what the runs that one
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
import type { SpendStore } from "../store/spend-store.js";
import type { TaskStore } from "../store/task-store.js";
import type { SpendCap } from "./executors/executor.js";
import { BUDGET_WINDOW_MS, dollars, type SpentBudget } from "./spend-budget.js";
import { writersDrive } from "./task-from-document.js";
import { logTransition } from "./task-events.js";
import type { Task } from "./types.js";
import type { WaitingReason } from "./waiting-reason.js";

/** A drive whose budget is spent: which, how much, and when it has room again. */
export interface SpentDriveBudget extends SpentBudget {
  driveId: string;
  /** Which setting gave the drive its budget: its own (TASK_DRIVE_BUDGETS_USD_PER_DAY) or the default. */
  setting: "TASK_DRIVE_BUDGETS_USD_PER_DAY" | "TASK_BUDGET_USD_PER_DRIVE_PER_DAY";
  /** From now (the store's clock). */
  freesInMs: number;
}

/** When a drive's spend could not be read, its task is tried again this much later (a budget is not skipped for a store's hiccup). */
export const DRIVE_READ_RETRY_MS = 30_000;
/** A held task waits at least this long: a spend just leaving the window is not claimed again and again within the same second. */
const MIN_WAIT_MS = 1000;
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

/** The tighter of the daily budget's rest and the drive's (either may be absent). */
export function tighterCap(dailyUsd: number | undefined, driveUsd: number | undefined, driveSetting?: string): SpendCap | undefined {
  if (driveUsd !== undefined && (dailyUsd === undefined || driveUsd < dailyUsd)) return { usd: driveUsd, from: "drive", ...(driveSetting ? { setting: driveSetting } : {}) };
  return dailyUsd === undefined ? undefined : { usd: dailyUsd, from: "daily" };
}

/** A drive's budget: its own among `named`, else `defaultUsd`; undefined for none (or no drive: the owner's own tasks). */
export function driveLimit(defaultUsd: number | undefined, named: Readonly<Record<string, number>> | undefined, driveId: string | null | undefined): number | undefined {
  if (driveId === null || driveId === undefined) return undefined;
  return named !== undefined && Object.hasOwn(named, driveId) ? named[driveId] : defaultUsd;
}

export class DriveBudgets {
  /** What was left of each drive's budget when a task of it last started. */
  private readonly remaining = new Map<string, { usd: number; at: number }>();

  constructor(
    private readonly store: SpendStore,
    /** US dollars per drive per 24 hours (TASK_BUDGET_USD_PER_DRIVE_PER_DAY); undefined: none. */
    readonly defaultUsd: number | undefined,
    /** Named drives' own (TASK_DRIVE_BUDGETS_USD_PER_DAY), instead of the default. */
    readonly named: Readonly<Record<string, number>> = {},
  ) {}

  /** The budget of `driveId`'s writers: its own, else the default; undefined: none. */
  limitFor(driveId: string | null | undefined): number | undefined {
    return driveLimit(this.defaultUsd, this.named, driveId);
  }

  /** Reads the spend of the drive whose writers asked for `task`: spent, or undefined (room, no drive, no budget). */
  async spentFor(task: Pick<Task, "source">): Promise<SpentDriveBudget | undefined> {
    const driveId = writersDrive(task.source);
    const limitUsd = this.limitFor(driveId);
    if (limitUsd === undefined || driveId === undefined) return undefined;
    const spend = await this.store.inWindow(BUDGET_WINDOW_MS, limitUsd, driveId);
    const now = Date.now();
    for (const [drive, read] of this.remaining) if (now - read.at > REMAINING_KEPT_MS) this.remaining.delete(drive);
    this.remaining.set(driveId, { usd: Math.max(0, limitUsd - spend.spentUsd), at: now });
    if (spend.spentUsd < limitUsd) return undefined;
    const freesInMs = spend.freesInMs ?? 0;
    return { driveId, limitUsd, spentUsd: spend.spentUsd, freesAt: now + freesInMs, freesInMs, setting: this.settingOf(driveId) };
  }

  /**
   * Records whether `driveId`'s budget is spent (`spent`) or has room (undefined), telling the
   * webhooks that ask (budget.drive_spent, budget.drive_available) when this changed it — once
   * across workers (flip-drive-budget-state.ts).
   */
  async flip(driveId: string, spent: SpentDriveBudget | undefined): Promise<{ flipped: boolean; deliveries: number }> {
    const payload = spent
      ? { driveId, budgetUsd: spent.limitUsd, spentUsd: spent.spentUsd, setting: spent.setting, windowHours: BUDGET_WINDOW_MS / 3_600_000, resumesAt: new Date(spent.freesAt).toISOString() }
      : { driveId, budgetUsd: this.limitFor(driveId) ?? null, remainingUsd: this.remaining.get(driveId)?.usd ?? null, setting: this.settingOf(driveId) };
    return this.store.flipDriveBudget(driveId, spent !== undefined, payload);
  }

  /** The setting that gives `driveId` its budget: its own entry, else the default. */
  settingOf(driveId: string): "TASK_DRIVE_BUDGETS_USD_PER_DAY" | "TASK_BUDGET_USD_PER_DRIVE_PER_DAY" {
    return Object.hasOwn(this.named, driveId) ? "TASK_DRIVE_BUDGETS_USD_PER_DAY" : "TASK_BUDGET_USD_PER_DRIVE_PER_DAY";
  }

  /** What a run of `task` may still spend under its drive's budget, as read as it was about to start; undefined: no drive budget holds it. */
  remainingFor(task: Pick<Task, "source">): number | undefined {
    const driveId = writersDrive(task.source);
    return driveId === undefined ? undefined : this.remaining.get(driveId)?.usd;
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

/** The webhooks told of a change of `driveId`'s budget (spent, or room again); a failure only logged: the task's start does not wait on it. */
async function tellWebhooks(deps: DriveHoldDeps, driveId: string, spent: SpentDriveBudget | undefined): Promise<void> {
  try {
    const { flipped, deliveries } = await deps.budgets.flip(driveId, spent);
    if (flipped && deliveries > 0) deps.logger.info({ driveId, deliveries }, `told ${deliveries} webhook(s): ${spent ? "budget.drive_spent" : "budget.drive_available"} (drive ${driveId})`);
  } catch (error) {
    deps.logger.warn({ err: error, driveId }, "recording whether the drive's budget is spent failed; its webhooks are told at its next task");
  }
}

/**
 * Before a claimed task of a type whose runs cost money starts: when its drive's budget is spent
 * (or its spend cannot be read), returns it to the queue until the drive has room (or for
 * DRIVE_READ_RETRY_MS). True when it went back — it must not run.
 */
export async function returnedForDriveBudget(deps: DriveHoldDeps, task: Task): Promise<boolean> {
  const driveId = writersDrive(task.source);
  if (driveId === undefined || deps.budgets.limitFor(driveId) === undefined) return false;
  let why: WaitingReason;
  let afterMs: number;
  try {
    const spent = await deps.budgets.spentFor(task);
    await tellWebhooks(deps, driveId, spent);
    if (!spent) return false;
    why = driveBudgetReason(spent);
    afterMs = Math.max(MIN_WAIT_MS, spent.freesInMs);
  } catch (error) {
    deps.logger.warn({ err: error, taskId: task.id }, "reading the spend of the task's drive failed; it goes back to the queue and is tried again shortly");
    afterMs = DRIVE_READ_RETRY_MS;
    why = { code: "drive_over_budget", message: `its drive's spend could not be read (TASK_BUDGET_USD_PER_DRIVE_PER_DAY); tried again at ${new Date(Date.now() + afterMs).toISOString()}`, until: new Date(Date.now() + afterMs).toISOString() };
  }
  const back = await deps.store.release(deps.workerId, [task.id], "drive budget spent", afterMs);
  // Not released: its lease was lost meanwhile (another worker has it); not run here either way.
  if (back.length === 0) return true;
  const pending: Task = { ...task, status: "pending", attempts: Math.max(0, task.attempts - 1) };
  logTransition(deps.logger, pending, "returned to the queue (its drive's daily budget is spent)", { until: why.until });
  deps.returned(pending, why);
  return true;
}
