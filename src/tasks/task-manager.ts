/**
 * The TaskManager (seed §3): accepts tasks into the durable store, claims what this worker may
 * run (priority with aging, per-worker / per-document / per-drive / per-type limits), runs each
 * attempt through its executor, and records the outcome: completed, retried with backoff, failed,
 * or cancelled. Leases keep crashed workers' tasks from being lost; a heartbeat renews them and
 * picks up cancel requests made from other processes.
 */
import { EventEmitter } from "node:events";
import type { Logger } from "../logger.js";
import type { TaskMetrics } from "../metrics.js";
import { CHANNELS } from "../store/db.js";
import type { ListFilter, TaskEventRow } from "../store/interfaces.js";
import type { ClaimedRow } from "../store/sql/claim-tasks.js";
import type { Decision } from "../store/sql/decide-approval.js";
import { rowRuntime, rowToTask, TaskStore, type TaskRuntime } from "../store/task-store.js";
import { PipelineStore } from "../store/pipeline-store.js";
import { stepResultsFrom } from "../pipelines/step-results.js";
import { Redactor } from "../security/redactor.js";
import { ClaimPump } from "./claim-pump.js";
import { TaskIntake } from "./task-intake.js";
import { StoreUpkeep } from "./store-upkeep.js";
import type { AttemptOutcome } from "./execute-attempt.js";
import { executeTask, type ExecuteTaskContext } from "./execute-task.js";
import { TaskAbortReason } from "./executors/executor.js";
import type { ExecutorRegistry } from "./executors/registry.js";
import type { ManagerSettings } from "./manager-settings.js";
import { OutputLog } from "./output-log.js";
import { AttemptSettler } from "./attempt-settler.js";
import { QueueControls } from "./queue-controls.js";
import { explainWaiting, type WaitingReason } from "./waiting-reason.js";
import { announceReturned, logTransition, type TaskLifecycleEvents } from "./task-events.js";
import { DependencyFailures, SWEEP_MS } from "./dependency-failures.js";
import { WorkerHeartbeat } from "./worker-heartbeat.js";
import { WorkerPresence } from "./worker-presence.js";
import { repeatEvery } from "./repeat-every.js";
import { cancelExpiredTasks, EXPIRY_SWEEP_MS, expiryOf } from "./expired-tasks.js";
import { APPROVAL_ASK_MS, askForApprovals } from "./approvals.js";
import type { Task, TaskError } from "./types.js";
import type { EnqueueOptions } from "./enqueue-options.js";
import type { RunningTask } from "./running-task.js";
import { HeldTasks } from "./held-tasks.js";
import { RecentCancels } from "./recent-cancels.js";
import { BUDGET_REFRESH_MS } from "./spend-budget.js";
import { TaskBudgets } from "./task-budgets.js";
import { SPENT_HOLDERS_RECHECK_MS } from "./holder-budget.js";
import { ConversationStore } from "../store/conversation-store.js";

const CANCELLED_BEFORE_START: AttemptOutcome = { status: "cancelled", error: { kind: "fatal", code: "cancelled", message: "task cancelled before it started" }, durationMs: 0 };

export class TaskManager extends EventEmitter<TaskLifecycleEvents> {
  /** Tasks this worker holds from launch until their end is recorded. */
  private readonly held: HeldTasks;
  /** Cancels heard for tasks not held here yet (a claim on its way back). */
  private readonly recentCancels = new RecentCancels();
  private readonly outputLog: OutputLog;
  private readonly pump: ClaimPump;
  private readonly unsubscribe: (() => Promise<void>)[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private started = false;
  private stopping = false;
  private readonly upkeep: StoreUpkeep;
  private readonly settler: AttemptSettler;
  private readonly dependencyFailures: DependencyFailures;
  /** Pauses and rate limits per type, for every worker (ph-tasks queue pause / limit). */
  private readonly controls: QueueControls;
  private readonly executeContext: ExecuteTaskContext;
  /** This worker's row in the list of workers (ph-tasks workers). */
  private readonly presence: WorkerPresence;
  /** What runs cost, the daily budget and each drive's, for the types whose runs cost money. */
  readonly budgets: TaskBudgets;
  /** Conversations Claude runs had, kept for follow-ups (continueFrom), and read back by the API. */
  readonly conversations: ConversationStore;
  /** The agent's secrets, taken out of what runs produce — and of the conversations shown. */
  readonly redactor: Redactor;
  private readonly heartbeat: WorkerHeartbeat;
  private readonly intake: TaskIntake;

  constructor(
    readonly store: TaskStore,
    readonly registry: ExecutorRegistry,
    readonly settings: ManagerSettings,
    private readonly logger: Logger,
    readonly metrics?: TaskMetrics,
  ) {
    super();
    const redactor = (this.redactor = new Redactor(settings.secrets ?? []));
    this.controls = new QueueControls(store.db, logger);
    this.presence = new WorkerPresence(store.db, settings, logger);
    this.conversations = new ConversationStore(store.db, redactor);
    this.budgets = new TaskBudgets({ store, registry, settings, logger, metrics, events: this });
    this.upkeep = new StoreUpkeep(store, settings, logger, () => this.started);
    this.outputLog = new OutputLog(store, { maxBytesPerTask: settings.outputCapBytes, flushIntervalMs: 100, logger });
    this.held = new HeldTasks({
      released: (task) => {
        this.outputLog.forget(task.id);
        this.schedulePump();
      },
      slotFreed: () => this.pump.slotFreed(),
      failed: (error, task) => this.logger.error({ err: error, taskId: task.id }, "recording a task outcome failed; its lease will return it to the queue"),
    });
    this.pump = new ClaimPump(store, this.outputLog, settings, logger, {
      executingCount: () => this.held.executing,
      executingTasks: () => this.held.executingTasks(),
      types: () => this.claimableTypes(),
      claims: (type) => !this.presence.draining && this.controls.pauses.allows(type) && !this.budgets.holdsType(type),
      launch: (row) => this.launch(row),
      returned: (rows, why) => rows.forEach((row) => announceReturned(this.logger, this, row, why)),
      state: () => (!this.started ? "stopped" : this.stopping ? "stopping" : "running"),
    }, this.controls.rateLimits);
    this.executeContext = { registry, redactor, outputLog: this.outputLog, logger, workerId: settings.workerId, abandonAfterMs: settings.abandonAfterMs, onOutput: (task, chunk) => this.emit("output", task, chunk), onProgress: (task, event) => this.emit("progress", task, event), spendCap: (task) => this.budgets.spendCap(task), stepResults: stepResultsFrom(new PipelineStore(store.db)), conversations: this.conversations };
    this.dependencyFailures = new DependencyFailures(store, (id, reason, code) => this.cancelTask(id, reason, code), logger);
    const ended = (task: Task) => void (this.started && this.dependencyFailures.checkQuietly([task.id]));
    this.on("failed", ended).on("cancelled", ended);
    this.heartbeat = new WorkerHeartbeat({ store, workerId: settings.workerId, leaseMs: settings.leaseMs, presence: this.presence, pump: this.pump, held: this.held, events: this, logger, claimableTypes: () => this.controls.pauses.claimable(this.registry.types()), heldTaskIds: () => this.heldTaskIds(), stop: (id, cause) => this.abortLocal(id, cause), wake: () => this.schedulePump() });
    this.intake = new TaskIntake({ store, registry, settings, conversations: this.conversations, dependencyFailures: this.dependencyFailures, logger, metrics, events: this, stored: (key) => this.findByIdempotencyKey(key), added: (types) => {
      this.controls.rateLimits.wake(types);
      this.schedulePump();
    } });
    this.settler = new AttemptSettler({ store, workerId: settings.workerId, retry: settings.retry, pump: this.pump, upkeep: this.upkeep, spend: this.budgets, events: this, logger, ...(metrics ? { metrics } : {}) });
  }

  get workerId(): string {
    return this.settings.workerId;
  }

  /**
   * Validates and stores tasks; an existing idempotency key returns the task already stored.
   * `options.ids`: the tasks' ids, made beforehand so that tasks of the batch can name each other
   * in dependsOn; `options.within` writes what belongs with them in their transaction (a pipeline's row).
   */
  enqueueTasks(inputs: readonly unknown[], options: EnqueueOptions = {}): Promise<{ task: Task; created: boolean }[]> {
    return this.intake.enqueue(inputs, options);
  }

  /** The seed's enqueueTask: one task. Throws ValidationError (every field problem) on bad input. */
  async enqueueTask(input: unknown): Promise<{ task: Task; created: boolean }> {
    const [stored] = await this.enqueueTasks([input]);
    if (!stored) throw new Error("enqueue returned nothing");
    return stored;
  }

  /** A task asked for but refused (loop protection), stored as cancelled with the reason: never silently dropped. */
  rejectTask(input: unknown, error: TaskError): Promise<Task | undefined> {
    return this.intake.reject(input, error);
  }

  /** Starts claiming and running tasks (the seed's processQueue). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.stopping = false;
    // Pauses and rate limits are known before anything can ask for a claim (a wake-up, below).
    await this.controls.refresh();
    this.unsubscribe.push(await this.store.db.listen(CHANNELS.wakeup, (payload) => this.wokenUp(payload)));
    this.unsubscribe.push(await this.store.db.listen(CHANNELS.cancel, (id) => this.abortLocal(id, "cancel")));
    this.unsubscribe.push(...(await this.controls.listen(() => this.schedulePump())));
    this.unsubscribe.push(await this.store.db.listen(CHANNELS.workers, (id) => this.heartbeat.drainAnnounced(id, this.stopping)));
    this.unsubscribe.push(await this.budgets.daily.follow(() => this.schedulePump()));
    const every = (ms: number, fn: () => Promise<void>) => this.timers.push(repeatEvery(ms, fn, this.logger));
    every(this.settings.heartbeatMs, () => this.heartbeat.beat());
    every(this.settings.heartbeatMs, async () => void ((await this.controls.refreshQuietly()) && this.schedulePump())); // should a notification be lost
    every(this.settings.pollIntervalMs, () => Promise.resolve(this.schedulePump()));
    every(this.settings.cleanupIntervalMs, () => this.upkeep.cleanup());
    every(this.settings.rollupIntervalMs ?? 60_000, () => this.upkeep.rollUp());
    every(SWEEP_MS, () => this.dependencyFailures.check().then(() => undefined));
    every(EXPIRY_SWEEP_MS, () => cancelExpiredTasks(this.store, (id, reason, code) => this.cancelTask(id, reason, code), this.logger).then(() => undefined));
    every(APPROVAL_ASK_MS, () => askForApprovals(this.store, this, this.logger));
    every(this.settings.spentDrivesRecheckMs ?? SPENT_HOLDERS_RECHECK_MS, () => this.budgets.recheckSpentHolders());
    // Also without a budget: one may be set while the agents run (ph-tasks budget daily), should its notification be lost.
    every(BUDGET_REFRESH_MS, async () => void ((await this.budgets.daily.refresh()) && this.schedulePump()));
    await this.heartbeat.beat();
    await this.budgets.wakeHolderHolds();
    void this.dependencyFailures.checkQuietly(); // a worker that died between a task's end and its dependents' cancel
    this.schedulePump();
  }

  processQueue(): Promise<void> {
    return this.start();
  }

  /**
   * Graceful stop: claim nothing more, let running tasks finish within the grace period, then
   * abort the rest and put them back in the queue (the interrupted attempt does not count).
   */
  async stop(graceMs = this.settings.shutdownGraceMs): Promise<void> {
    if (!this.started) return;
    this.stopping = true;
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    await this.presence.beat("stopping", []);
    // A claim in flight either launches its tasks or returns them first; tasks claimed ahead go back.
    for (const row of await this.pump.quiesce()) announceReturned(this.logger, this, row, "shutdown, not started");
    let graceTimer: NodeJS.Timeout | undefined;
    await Promise.race([this.held.allDone(), new Promise((resolve) => (graceTimer = setTimeout(resolve, graceMs)))]);
    clearTimeout(graceTimer);
    this.held.abortAll(new TaskAbortReason("shutdown"));
    await this.held.allDone(); // every run's end is recorded by then: settle() waits for it
    await this.outputLog.flush();
    // A cleanup or vacuum of the store's own still running must not outlive the worker.
    await this.upkeep.idle();
    for (const off of this.unsubscribe.splice(0)) await off();
    await this.presence.leave();
    this.started = false;
  }

  /**
   * The seed's executeTask: one attempt of a task through its executor, with events. `abort` is a
   * signal that cancels it, or the run's own controller (aborted on timeout too).
   */
  executeTask(task: Task, abort: AbortSignal | AbortController, attempt = task.attempts): Promise<AttemptOutcome> {
    return executeTask(this.executeContext, task, abort, attempt);
  }

  async getTask(id: string): Promise<(Task & { runtime: TaskRuntime }) | undefined> {
    const row = await this.store.get(id);
    return row ? { ...rowToTask(row), runtime: rowRuntime(row) } : undefined;
  }

  /** Why a pending task has not started (undefined: it is not pending). */
  async whyWaiting(id: string): Promise<WaitingReason | undefined> {
    const facts = await this.store.waitingFacts(id);
    if (!facts) return undefined;
    return explainWaiting(facts, { ...this.budgets.waitingSources(), pauses: this.controls.pauseStore, rateLimits: this.controls.rateLimitStore, concurrency: this.controls.concurrencyStore, maxPerDocument: this.settings.maxPerDocument, maxPerDrive: this.settings.maxPerDrive });
  }

  async getTaskStatus(id: string): Promise<{ id: string; status: Task["status"]; attempts: number; error?: TaskError } | undefined> {
    const task = await this.getTask(id);
    if (!task) return undefined;
    return { id: task.id, status: task.status, attempts: task.attempts, ...(task.error ? { error: task.error } : {}) };
  }

  async findByIdempotencyKey(key: string): Promise<Task | undefined> {
    const row = await this.store.getByIdempotencyKey(key);
    return row ? rowToTask(row) : undefined;
  }

  /** `total` counts matches up to LIST_TOTAL_CAP; `totalCapped` says there are more. */
  async listTasks(filter: ListFilter): Promise<{ tasks: (Task & { runtime: TaskRuntime })[]; total: number; totalCapped: boolean }> {
    const { rows, total, totalCapped } = await this.store.list(filter);
    return { tasks: rows.map((row) => ({ ...rowToTask(row), runtime: rowRuntime(row) })), total, totalCapped };
  }

  getEvents(taskId: string, afterSeq = 0, limit = 1000): Promise<TaskEventRow[]> {
    return this.store.listEvents(taskId, afterSeq, limit);
  }

  /** Makes buffered output visible to readers of the event log now. */
  flushOutput(): Promise<void> {
    return this.outputLog.flush();
  }

  /**
   * Cancels a task: a pending one at once; a running one through its signal, here or — via
   * NOTIFY and the heartbeat — in whichever worker holds it. False when already finished.
   */
  async cancelTask(id: string, reason = "cancelled by request", code?: string): Promise<boolean> {
    const row = await this.store.requestCancel(id, reason, code);
    if (!row) return false;
    if (row.status === "cancelled") {
      const task = rowToTask(row);
      this.metrics?.cancelled.inc({ type: task.type });
      logTransition(this.logger, task, "cancelled", { reason });
      this.outputLog.append({ task_id: id, kind: "status", stream: null, data: JSON.stringify({ status: "cancelled", reason }) });
      this.emit("cancelled", task, { reason });
      return true;
    }
    if (!this.abortLocal(id, "cancel")) await this.store.db.notify(CHANNELS.cancel, id);
    return true;
  }

  /** Queues a failed or cancelled task again with fresh attempts. */
  async retryTask(id: string): Promise<Task | undefined> {
    const row = await this.store.retry(id);
    if (!row) return undefined;
    const task = rowToTask(row);
    logTransition(this.logger, task, "queued again", {});
    this.emit("queued", task);
    await this.store.db.notify(CHANNELS.wakeup, "");
    this.schedulePump();
    return task;
  }

  /** A person's decision on an approval task, recorded and released to run; undefined when it awaits none (approvals.ts says why). */
  async decideApproval(id: string, decision: Decision): Promise<Task | undefined> {
    const row = await this.store.decideApproval(id, decision);
    if (!row) return undefined;
    const task = rowToTask(row);
    logTransition(this.logger, task, decision.approved ? "approved" : "rejected", { by: decision.by });
    await this.store.db.notify(CHANNELS.wakeup, "");
    return task;
  }

  /** A waiting task's new priority (0–100), keeping the time it waited; undefined when it no longer waits. */
  async reprioritizeTask(id: string, priority: number): Promise<Task | undefined> {
    const row = await this.store.reprioritize(id, priority, this.settings.agingMs);
    if (!row) return undefined;
    const task = rowToTask(row);
    logTransition(this.logger, task, "priority changed", { priority });
    return task;
  }

  /** The task types this worker claims now: those it has executors for, less the paused ones and those the spent budget holds; none while it drains. */
  claimableTypes(): string[] {
    return this.presence.draining ? [] : this.controls.pauses.claimable(this.registry.types()).filter((type) => !this.budgets.holdsType(type));
  }

  /** The task types whose starts are rate-limited for every worker (ph-tasks queue limit), as this worker knows them. */
  rateLimitedTypes(): string[] {
    return this.controls.rateLimits.types();
  }

  runningTaskIds(): string[] {
    return this.held.ids();
  }

  /** Tasks this worker holds: running, and claimed ahead waiting for a slot (prefetch). */
  heldTaskIds(): string[] {
    return [...this.held.ids(), ...this.pump.readyIds()];
  }

  /**
   * Stops a task this worker holds: a run through its signal; a claimed task still waiting for a
   * slot (prefetch) ends as cancelled without running, or — its lease lost — is let go.
   */
  private abortLocal(id: string, cause: "cancel" | "shutdown"): boolean {
    const run = this.held.get(id);
    if (run) {
      run.controller.abort(new TaskAbortReason(cause));
      return true;
    }
    const ready = this.pump.takeReady(id);
    if (!ready) {
      if (cause === "cancel") this.recentCancels.note(id); // its claim may be on its way here
      return false;
    }
    if (cause === "cancel") this.cancelBeforeStart(ready);
    return true;
  }

  private cancelBeforeStart(row: ClaimedRow): void {
    this.held.hold(rowToTask(row), false, (entry) => this.settler.settle(entry.task, row.attempts, CANCELLED_BEFORE_START));
  }

  private schedulePump(): void {
    this.pump.schedule();
  }

  private launch(row: ClaimedRow): void {
    const task = rowToTask(row);
    const expired = expiryOf(task); // claimed past its startBy: ended, not run
    // A cancel heard while its claim was on its way: asked of this run, or of an earlier one (retried since)?
    const cancelHeard = this.recentCancels.take(row.id);
    this.held.hold(task, !expired, async (entry) => {
      if (expired) return this.settler.settle(task, row.attempts, expired);
      if (cancelHeard && (await this.store.get(row.id))?.cancel_requested) return this.settler.settle(task, row.attempts, CANCELLED_BEFORE_START);
      if (await this.budgets.heldAtStart(task)) return this.held.freeSlot(entry);
      return this.runClaimed(entry, row.attempts);
    });
  }

  private async runClaimed(entry: RunningTask, attempt: number): Promise<void> {
    const { task, controller } = entry;
    let outcome: AttemptOutcome;
    try {
      // The "running" entry of the event log was written by the claim itself.
      logTransition(this.logger, task, "started", { attempt });
      this.emit("started", task, { workerId: this.workerId, attempt });
      outcome = await this.executeTask(task, controller, attempt);
    } finally {
      // The run is over: its slot is free while its end is recorded (the store still counts it running).
      this.held.freeSlot(entry);
    }
    await this.settler.settle(task, attempt, outcome);
  }

  /**
   * A wake-up: new work (payload "": enqueued, retried, resumed, a limit changed — rate-limited
   * types are asked for again) or another worker's freed slots (payload: its id). Its own are
   * nothing new to it.
   */
  private wokenUp(payload: string): void {
    if (payload === this.workerId) return;
    if (payload === "") this.controls.rateLimits.wake();
    this.schedulePump();
  }
}
