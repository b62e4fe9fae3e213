/**
 * A daily budget per holder — each drive's writers (TASK_BUDGET_USD_PER_DRIVE_PER_DAY, a named
 * drive's own in TASK_DRIVE_BUDGETS_USD_PER_DAY) or each person who asked
 * (TASK_BUDGET_USD_PER_PERSON_PER_DAY, TASK_PERSON_BUDGETS_USD_PER_DAY), or one set while the
 * agents run (`ph-tasks budget set`, `ph-tasks budget person set`), which wins over both: what the
 * runs that holder asked for may spend in the last 24 hours, so that no one drive's writers and no
 * one person spends the daily budget (spend-budget.ts) that every drive, person and the owner
 * share. Who the holder of a task is, and the words, are in budget-holders.ts.
 *
 * Held as a task starts, not in the claim: the claim picks by type across every holder in one
 * statement, and a list of held ones there would weigh on every claim for a case that is rare
 * and concerns runs of seconds to minutes. The worker that claims a task of a type whose runs cost
 * money reads its holder's spend (one indexed query); spent, the task goes back to the queue not to
 * be claimed before the holder has room again — its attempt not counted, its rank kept — and its
 * document is told why and until when. Otherwise the run starts capped at what is left of the
 * holder's budget, when that is the tightest of the budgets that hold it.
 */
import type { Logger } from "../logger.js";
import { CHANNELS } from "../store/db.js";
import type { HolderBudgetRow, SpendStore } from "../store/spend-store.js";
import { HOLDER_TABLES } from "../store/sql/holder-budgets/budget-holder-tables.js";
import { listHolderBudgets } from "../store/sql/holder-budgets/list-holder-budgets.js";
import type { TaskStore } from "../store/task-store.js";
import type { SpendCap } from "./executors/executor.js";
import type { BudgetHolder } from "./budget-holders.js";
import { BUDGET_WINDOW_MS, DEFAULT_WARN_AT_PERCENT, dollars, nearlySpent, storedSetting, type Budget, type SpentBudget } from "./spend-budget.js";
import { logTransition } from "./task-events.js";
import type { Task } from "./types.js";
import type { WaitingReason } from "./waiting-reason.js";

/** A holder whose budget is spent: which, how much, and when it has room again. */
export interface SpentHolderBudget extends SpentBudget {
  holder: string;
  /** From now (the store's clock). */
  freesInMs: number;
}

/** A holder's budget as just read, and whether it is spent. */
export interface HolderBudgetReading {
  holder: string;
  budget: Budget;
  /** Spent; undefined: it has room. */
  spent: SpentHolderBudget | undefined;
  /** What was spent in the last 24 hours, and what is left of the budget (never below 0). */
  spentUsd: number;
  remainingUsd: number;
  /** When the budget set for the holder while the agents run was set (ms), null when none was: changedSince compares it. */
  setAt: number | null;
}

/** When a holder's spend could not be read, its task is tried again this much later (a budget is not skipped for a store's hiccup). */
export const HOLDER_READ_RETRY_MS = 30_000;
/** A held task waits at least this long: a spend just leaving the window is not claimed again and again within the same second. */
const MIN_WAIT_MS = 1000;
/** How many holders recorded as spent one look again reads (recheckSpent). */
const RECHECKED = 100;
/** How often a worker looks again at the holders recorded as spent. */
export const SPENT_HOLDERS_RECHECK_MS = 60_000;
/** What is left of a holder's budget is kept this long after it was read, for the run that starts (its cap). */
const REMAINING_KEPT_MS = 60_000;

const setAtOf = (row: HolderBudgetRow | undefined): number | null => row?.set_at.getTime() ?? null;

/** Why a task waits for its holder's budget, as `ph-tasks show`, the API and its document say it. */
export function holderBudgetReason(kind: BudgetHolder, spent: SpentHolderBudget): WaitingReason {
  const until = new Date(spent.freesAt).toISOString();
  return {
    code: kind.waitingCode,
    message: `${kind.budgetOf(spent.holder)} is spent (${dollars(spent.spentUsd)} of ${dollars(spent.limitUsd)} in the last 24 hours ${kind.spentBy(spent.holder)}; ${spent.setting}); it starts at ${until}`,
    until,
  };
}

/** The tightest of the daily budget's rest and the holders' (any may be absent), with the setting that gave it. */
export function tightestCap(daily: Budget | undefined, holders: readonly [BudgetHolder, Budget | undefined][]): SpendCap | undefined {
  let cap: SpendCap | undefined = daily && { usd: daily.usd, from: "daily", setting: daily.setting };
  for (const [kind, rest] of holders) if (rest !== undefined && (cap === undefined || rest.usd < cap.usd)) cap = { usd: rest.usd, from: kind.kind, setting: rest.setting };
  return cap;
}

/** The budgets a holder may be given: the default, named holders' own (the settings), and those set while the agents run. */
export interface HolderBudgetSources {
  /** US dollars per holder per 24 hours (TASK_BUDGET_USD_PER_DRIVE_PER_DAY, …_PER_PERSON_…); undefined: none. */
  defaultUsd: number | undefined;
  /** Named holders' own (TASK_DRIVE_BUDGETS_USD_PER_DAY, TASK_PERSON_BUDGETS_USD_PER_DAY), instead of the default. */
  named: Readonly<Record<string, number>>;
}

/**
 * `id`'s budget: the one set for it while the agents run (`stored`; its usd null: none at all),
 * else its own among the named, else the default; undefined for none (or no holder).
 */
export function holderBudgetOf(kind: BudgetHolder, sources: HolderBudgetSources, id: string | null | undefined, stored: Pick<HolderBudgetRow, "usd_per_day" | "set_by"> | undefined): Budget | undefined {
  if (id === null || id === undefined) return undefined;
  if (stored !== undefined) return stored.usd_per_day === null ? undefined : { usd: stored.usd_per_day, setting: storedSetting(stored) };
  if (Object.hasOwn(sources.named, id)) return { usd: sources.named[id] ?? 0, setting: kind.namedSetting };
  return sources.defaultUsd === undefined ? undefined : { usd: sources.defaultUsd, setting: kind.defaultSetting };
}

export class HolderBudgets implements HolderBudgetSources {
  /** What was left of each holder's budget when a task of it last started. */
  private readonly remaining = new Map<string, Budget & { at: number }>();

  constructor(
    readonly kind: BudgetHolder,
    private readonly store: SpendStore,
    readonly defaultUsd: number | undefined,
    readonly named: Readonly<Record<string, number>> = {},
    /** The share of a holder's budget whose crossing the webhooks are told (TASK_BUDGET_WARN_AT_PERCENT). */
    readonly warnAtPercent = DEFAULT_WARN_AT_PERCENT,
  ) {}

  /** Reads the budget and the spend of `task`'s holder; undefined: no holder, or no budget. */
  readFor(task: Pick<Task, "source">): Promise<HolderBudgetReading | undefined> {
    return this.read(this.kind.of(task.source));
  }

  /** Reads `id`'s budget and its spend; undefined: no holder, or no budget. */
  async read(id: string | undefined): Promise<HolderBudgetReading | undefined> {
    if (id === undefined) return undefined;
    const [row] = await listHolderBudgets(this.store.db, this.kind.kind, [id]);
    const budget = holderBudgetOf(this.kind, this, id, row);
    // None now (set so, or removed): a rest read under the one before must not cap the next run.
    if (budget === undefined) return void this.remaining.delete(id);
    const spend = await this.store.inWindow(BUDGET_WINDOW_MS, budget.usd, { kind: this.kind.kind, id });
    const now = Date.now();
    for (const [holder, read] of this.remaining) if (now - read.at > REMAINING_KEPT_MS) this.remaining.delete(holder);
    const remainingUsd = Math.max(0, budget.usd - spend.spentUsd);
    this.remaining.set(id, { usd: remainingUsd, setting: budget.setting, at: now });
    const read = { holder: id, budget, spentUsd: spend.spentUsd, remainingUsd, setAt: setAtOf(row) };
    if (spend.spentUsd < budget.usd) return { ...read, spent: undefined };
    const freesInMs = spend.freesInMs ?? 0;
    return { ...read, spent: { holder: id, limitUsd: budget.usd, spentUsd: spend.spentUsd, freesAt: now + freesInMs, freesInMs, setting: budget.setting } };
  }

  /**
   * Whether the budget set for `reading`'s holder changed (set, raised, removed) since it was read.
   * A change's wake-up (wake-holder-budget-holds.ts) only finds tasks that are pending: one a worker
   * holds while it reads the old budget is released after that wake-up found nothing, so the worker
   * asks this after its release and wakes the holder's holds itself when the budget changed.
   */
  async changedSince(reading: HolderBudgetReading): Promise<boolean> {
    const [row] = await listHolderBudgets(this.store.db, this.kind.kind, [reading.holder]);
    return setAtOf(row) !== reading.setAt;
  }

  /** The tasks waiting for `id`'s budget made claimable now, the workers woken to look at them under its budget as it now is; how many. */
  async wakeHolds(id: string): Promise<number> {
    const woken = await this.store.wakeHolds({ kind: this.kind.kind, id });
    if (woken.length > 0) await this.store.db.notify(CHANNELS.wakeup, "");
    return woken.length;
  }

  /** Spent: `task`'s holder has spent its budget; undefined: room, no holder, no budget. */
  async spentFor(task: Pick<Task, "source">): Promise<SpentHolderBudget | undefined> {
    return (await this.readFor(task))?.spent;
  }

  /**
   * Records whether `id`'s budget is spent or has room (`reading` undefined: it has none now),
   * telling the webhooks that ask (budget.drive_spent / _available, budget.person_spent /
   * _available) when this changed it — once across workers.
   */
  async flip(id: string, reading: HolderBudgetReading | undefined): Promise<{ flipped: boolean; deliveries: number }> {
    const spent = reading?.spent;
    const named = { [this.kind.idField]: id };
    const payload = spent
      ? { ...named, budgetUsd: spent.limitUsd, spentUsd: spent.spentUsd, setting: spent.setting, windowHours: BUDGET_WINDOW_MS / 3_600_000, resumesAt: new Date(spent.freesAt).toISOString() }
      : { ...named, budgetUsd: reading?.budget.usd ?? null, remainingUsd: reading?.remainingUsd ?? null, setting: reading?.budget.setting ?? null };
    return this.store.flipHolderBudget({ kind: this.kind.kind, id }, spent !== undefined, payload);
  }

  /**
   * Records whether `id`'s spend is past its budget's warning share and not spent, telling the
   * webhooks that ask (budget.drive_nearly_spent, budget.person_nearly_spent) when this crossed
   * it — once across workers.
   */
  async warn(id: string, reading: HolderBudgetReading | undefined): Promise<{ flipped: boolean; deliveries: number }> {
    const near = reading !== undefined && nearlySpent(reading.spentUsd, reading.budget.usd, this.warnAtPercent);
    const payload = reading ? { [this.kind.idField]: id, budgetUsd: reading.budget.usd, spentUsd: reading.spentUsd, remainingUsd: reading.remainingUsd, percent: Math.floor((reading.spentUsd / reading.budget.usd) * 100), warnAtPercent: this.warnAtPercent, setting: reading.budget.setting } : {};
    return this.store.flipHolderWarning({ kind: this.kind.kind, id }, near, payload);
  }

  /**
   * The holders recorded as spent, read again: one with room now (its costs left the window, or
   * its budget was raised or removed) is recorded so and its webhooks told — also when it asks for
   * nothing more, which no task's start would tell. At most RECHECKED of them per call.
   */
  async recheckSpent(logger: Logger): Promise<void> {
    for (const id of await this.store.spentHolders(this.kind.kind, RECHECKED)) {
      const reading = await this.read(id);
      if (!reading?.spent) await tellHolderWebhooks(this, logger, id, reading);
    }
  }

  /** What a run of `task` may still spend under its holder's budget, and which setting gave it, as read as it was about to start; undefined: none holds it. */
  remainingFor(task: Pick<Task, "source">): Budget | undefined {
    const id = this.kind.of(task.source);
    const read = id === undefined ? undefined : this.remaining.get(id);
    return read && { usd: read.usd, setting: read.setting };
  }
}

export interface HolderHoldDeps {
  store: TaskStore;
  workerId: string;
  logger: Logger;
  /** Told of a task returned to wait: it is pending again, and why (the document, the live views). */
  returned(task: Task, why: WaitingReason, kind: BudgetHolder): void;
}

/** The webhooks told of a change of `id`'s budget (spent, room again, or none now); a failure only logged: the task's start does not wait on it. */
export async function tellHolderWebhooks(budgets: HolderBudgets, logger: Logger, id: string, reading: HolderBudgetReading | undefined): Promise<void> {
  const { kind } = budgets;
  try {
    const { flipped, deliveries } = await budgets.flip(id, reading);
    if (flipped && deliveries > 0) logger.info({ [kind.idField]: id, deliveries }, `told ${deliveries} webhook(s): budget.${kind.kind}_${reading?.spent ? "spent" : "available"} (${kind.label(id)})`);
    const warned = await budgets.warn(id, reading);
    if (warned.flipped && warned.deliveries > 0) logger.info({ [kind.idField]: id, deliveries: warned.deliveries }, `told ${warned.deliveries} webhook(s): budget.${kind.kind}_nearly_spent (${kind.label(id)})`);
  } catch (error) {
    logger.warn({ err: error, [kind.idField]: id }, `recording whether the budget of ${kind.label(id)} is spent failed; its webhooks are told at its next task`);
  }
}

/**
 * Before a claimed task of a type whose runs cost money starts: when its holder's budget is spent
 * (or its spend cannot be read), returns it to the queue until the holder has room (or for
 * HOLDER_READ_RETRY_MS). True when it went back — it must not run.
 */
export async function returnedForHolderBudget(deps: HolderHoldDeps, budgets: HolderBudgets, task: Task): Promise<boolean> {
  const { kind } = budgets;
  const id = kind.of(task.source);
  if (id === undefined) return false;
  let why: WaitingReason;
  let afterMs: number;
  let reading: HolderBudgetReading | undefined;
  try {
    reading = await budgets.readFor(task);
    if (reading === undefined) return false;
    await tellHolderWebhooks(budgets, deps.logger, id, reading);
    if (!reading.spent) return false;
    why = holderBudgetReason(kind, reading.spent);
    afterMs = Math.max(MIN_WAIT_MS, reading.spent.freesInMs);
  } catch (error) {
    deps.logger.warn({ err: error, taskId: task.id }, `reading the budget or the spend of ${kind.label(id)} failed; the task goes back to the queue and is tried again shortly`);
    afterMs = HOLDER_READ_RETRY_MS;
    const until = new Date(Date.now() + afterMs).toISOString();
    why = { code: kind.waitingCode, message: `${kind.name} or its spend could not be read; tried again at ${until}`, until };
  }
  const back = await deps.store.release(deps.workerId, [task.id], HOLDER_TABLES[kind.kind].heldReason, afterMs);
  // Not released: its lease was lost meanwhile (another worker has it); not run here either way.
  if (back.length === 0) return true;
  const pending: Task = { ...task, status: "pending", attempts: Math.max(0, task.attempts - 1) };
  logTransition(deps.logger, pending, `returned to the queue (${kind.name} is spent)`, { until: why.until });
  deps.returned(pending, why, kind);
  if (reading) await wakeIfChanged(deps, budgets, reading);
  return true;
}

/** After a release: the holder's holds woken when its budget changed since it was read (changedSince); a failure only logged — the next change or the task's time wakes it. */
async function wakeIfChanged(deps: HolderHoldDeps, budgets: HolderBudgets, reading: HolderBudgetReading): Promise<void> {
  const { kind } = budgets;
  try {
    if (!(await budgets.changedSince(reading))) return;
    const woken = await budgets.wakeHolds(reading.holder);
    if (woken > 0) deps.logger.info({ [kind.idField]: reading.holder, tasks: woken }, `the budget of ${kind.label(reading.holder)} changed while a task of it was held: ${woken} task(s) looked at again under its new budget`);
  } catch (error) {
    deps.logger.warn({ err: error, [kind.idField]: reading.holder }, `looking whether the budget of ${kind.label(reading.holder)} changed failed; its held tasks wait for their time or its next change`);
  }
}
