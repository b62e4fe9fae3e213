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
import type { ClaimLimits, Finish, ListFilter, NewTaskEvent, TaskEventRow } from "../store/interfaces.js";
import type { ClaimedRow, FinishedRow } from "../store/sql/claim-tasks.js";
import { finishedTask, rowRuntime, rowToTask, TaskStore, type TaskRuntime } from "../store/task-store.js";
import { ValidationError, parseWith } from "../validation.js";
import { executeAttempt, type AttemptOutcome } from "./execute-attempt.js";
import { TaskAbortReason } from "./executors/executor.js";
import type { ExecutorRegistry } from "./executors/registry.js";
import type { ManagerSettings } from "./manager-settings.js";
import { newTask } from "./new-task.js";
import { OutputLog } from "./output-log.js";
import { retryDelayMs } from "./retry-policy.js";
import type { TaskLifecycleEvents } from "./task-events.js";
import { parseTaskRequest } from "./task-request.js";
import type { JsonValue, Task, TaskError } from "./types.js";


interface RunningTask {
  task: Task;
  controller: AbortController;
  done: Promise<void>;
}

/** A run's end waiting for the pump's next round trip. */
interface PendingFinish {
  item: Finish;
  resolve: (row: FinishedRow | undefined) => void;
  reject: (error: unknown) => void;
}

export class TaskManager extends EventEmitter<TaskLifecycleEvents> {
  private readonly running = new Map<string, RunningTask>();
  /** Ends of runs to record; the pump writes them together with its next claim. */
  private pendingFinishes: PendingFinish[] = [];
  private readonly outputLog: OutputLog;
  private readonly unsubscribe: (() => Promise<void>)[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private delayedTimer: NodeJS.Timeout | undefined;
  private started = false;
  private stopping = false;
  private pumping = false;
  /** The pump's current pass: stop() waits for it, so no claim lands after the manager stopped. */
  private pumpPass: Promise<void> = Promise.resolve();
  private pumpAgain = false;
  private pumpScheduled = false;
  private finishedSinceVacuum = 0;

  constructor(
    readonly store: TaskStore,
    readonly registry: ExecutorRegistry,
    readonly settings: ManagerSettings,
    private readonly logger: Logger,
    readonly metrics?: TaskMetrics,
  ) {
    super();
    this.outputLog = new OutputLog(store, { maxBytesPerTask: settings.outputCapBytes, flushIntervalMs: 100, logger });
  }

  get workerId(): string {
    return this.settings.workerId;
  }

  /** Validates and stores tasks; an existing idempotency key returns the task already stored. */
  async enqueueTasks(inputs: readonly unknown[]): Promise<{ task: Task; created: boolean }[]> {
    const tasks = inputs.map((input, index) => {
      const parsed = parseTaskRequest(input, this.registry);
      if (!parsed.ok) {
        throw new ValidationError(inputs.length > 1 ? `task #${index}` : "task", parsed.errors);
      }
      const executor = this.registry.get(parsed.value.type);
      if (!executor) throw new Error(`no executor for '${parsed.value.type}'`);
      return newTask(parsed.value, executor, { maxAttempts: this.settings.defaultMaxAttempts, timeoutMs: this.settings.defaultTimeoutMs });
    });
    const stored = await this.store.insert(tasks, this.settings.agingMs);
    for (const { task, created } of stored) {
      if (!created) continue;
      this.metrics?.created.inc({ type: task.type });
      this.logTransition(task, "created", {});
      this.outputLog.append({ task_id: task.id, kind: "status", stream: null, data: JSON.stringify({ status: "pending", attempt: 0 }) });
      this.emit("created", task);
      this.emit("queued", task);
    }
    this.schedulePump();
    return stored;
  }

  /** The seed's enqueueTask: one task. Throws ValidationError (every field problem) on bad input. */
  async enqueueTask(input: unknown): Promise<{ task: Task; created: boolean }> {
    const [stored] = await this.enqueueTasks([input]);
    if (!stored) throw new Error("enqueue returned nothing");
    return stored;
  }

  /**
   * Records a task that was asked for but refused (loop protection) as cancelled with the reason:
   * visible in the API and the dashboard, never silently dropped.
   */
  async rejectTask(input: unknown, error: TaskError): Promise<Task | undefined> {
    const parsed = parseTaskRequest(input, this.registry);
    if (!parsed.ok) throw new ValidationError("task", parsed.errors);
    const executor = this.registry.get(parsed.value.type);
    if (!executor) throw new Error(`no executor for '${parsed.value.type}'`);
    const task = newTask(parsed.value, executor, { maxAttempts: this.settings.defaultMaxAttempts, timeoutMs: this.settings.defaultTimeoutMs });
    const stored = await this.store.insertRejected(task, error);
    if (!stored) return undefined;
    this.metrics?.cancelled.inc({ type: stored.type });
    this.logger.warn({ taskId: stored.id, type: stored.type, documentId: stored.source?.documentId, code: error.code }, `task refused: ${error.message}`);
    this.emit("cancelled", stored, { reason: error.message });
    return stored;
  }

  /** Starts claiming and running tasks (the seed's processQueue). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.stopping = false;
    // Wake-ups this worker sent itself (payload: its id, when it freed slots) are nothing new to it.
    this.unsubscribe.push(await this.store.db.listen(CHANNELS.wakeup, (payload) => payload !== this.workerId && this.schedulePump()));
    this.unsubscribe.push(await this.store.db.listen(CHANNELS.cancel, (id) => this.abortLocal(id, "cancel")));
    const every = (ms: number, fn: () => Promise<void>) => {
      const timer = setInterval(() => void fn().catch((error: unknown) => this.logger.error({ err: error }, "task manager background job failed")), ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.settings.heartbeatMs, () => this.heartbeat());
    every(this.settings.pollIntervalMs, () => Promise.resolve(this.schedulePump()));
    every(this.settings.cleanupIntervalMs, () => this.cleanup());
    await this.heartbeat();
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
    if (this.delayedTimer) clearTimeout(this.delayedTimer);
    await this.pumpPass; // a claim in flight either launches its tasks or returns them first
    const all = () => Promise.allSettled([...this.running.values()].map((r) => r.done));
    let graceTimer: NodeJS.Timeout | undefined;
    await Promise.race([all(), new Promise((resolve) => (graceTimer = setTimeout(resolve, graceMs)))]);
    clearTimeout(graceTimer);
    for (const run of this.running.values()) run.controller.abort(new TaskAbortReason("shutdown"));
    await all(); // every run's end is recorded by then: settle() waits for it
    await this.outputLog.flush();
    for (const off of this.unsubscribe.splice(0)) await off();
    this.started = false;
  }

  /** The seed's executeTask: one attempt of a task through its executor, with events. */
  async executeTask(task: Task, signal: AbortSignal, attempt = task.attempts): Promise<AttemptOutcome> {
    const executor = this.registry.get(task.type);
    if (!executor) {
      return { status: "failed", error: { kind: "fatal", code: "unknown_type", message: `worker ${this.workerId} has no executor for task type '${task.type}'` }, durationMs: 0 };
    }
    // Stored fields are checked again: the task may come from an older version or another writer.
    const valid = parseWith(executor.requestSchema, task);
    if (!valid.ok) {
      const message = valid.errors.map((e) => `${e.field}: ${e.message}`).join("; ");
      return { status: "failed", error: { kind: "fatal", code: "invalid_task", message }, durationMs: 0 };
    }
    return executeAttempt(executor, { ...task, ...valid.value }, {
      signal,
      timeoutMs: task.timeoutMs,
      attempt,
      logger: this.logger.child({ taskId: task.id, type: task.type }),
      onOutput: (chunk) => {
        this.outputLog.append({ task_id: task.id, kind: "output", stream: chunk.stream, data: chunk.data });
        this.emit("output", task, chunk);
      },
      onProgress: (event) => {
        this.outputLog.append({ task_id: task.id, kind: "progress", stream: null, data: JSON.stringify(event) });
        this.emit("progress", task, event);
      },
    });
  }

  async getTask(id: string): Promise<(Task & { runtime: TaskRuntime }) | undefined> {
    const row = await this.store.get(id);
    return row ? { ...rowToTask(row), runtime: rowRuntime(row) } : undefined;
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

  async listTasks(filter: ListFilter): Promise<{ tasks: (Task & { runtime: TaskRuntime })[]; total: number }> {
    const { rows, total } = await this.store.list(filter);
    return { tasks: rows.map((row) => ({ ...rowToTask(row), runtime: rowRuntime(row) })), total };
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
  async cancelTask(id: string, reason = "cancelled by request"): Promise<boolean> {
    const row = await this.store.requestCancel(id, reason);
    if (!row) return false;
    if (row.status === "cancelled") {
      const task = rowToTask(row);
      this.metrics?.cancelled.inc({ type: task.type });
      this.logTransition(task, "cancelled", { reason });
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
    this.logTransition(task, "queued again", {});
    this.outputLog.append({ task_id: id, kind: "status", stream: null, data: JSON.stringify({ status: "pending", retried: true }) });
    this.emit("queued", task);
    await this.store.db.notify(CHANNELS.wakeup, "");
    this.schedulePump();
    return task;
  }

  runningTaskIds(): string[] {
    return [...this.running.keys()];
  }

  private abortLocal(id: string, cause: "cancel" | "shutdown"): boolean {
    const run = this.running.get(id);
    if (!run) return false;
    run.controller.abort(new TaskAbortReason(cause));
    return true;
  }

  private schedulePump(): void {
    // While stopping, the pump still records the ends of runs; it claims nothing.
    if (!this.started || (this.stopping && this.pendingFinishes.length === 0) || this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pumpPass = this.pump();
    });
  }

  /** Runs in `ending` are being recorded as finished in the same round trip as the claim: their slots count as free. */
  private typeSlots(ending: ReadonlySet<string>): Record<string, number> {
    const slots: Record<string, number> = {};
    for (const [type, cap] of Object.entries(this.settings.typeConcurrency)) {
      let used = 0;
      for (const run of this.running.values()) if (run.task.type === type && !ending.has(run.task.id)) used++;
      slots[type] = Math.max(0, cap - used);
    }
    return slots;
  }

  /**
   * The one place that talks to the store for running tasks: each round trip records the runs that
   * ended since the last one and claims for every slot free after them (finish + claim in one
   * call: a no-op task costs two row updates and a share of one round trip).
   */
  private async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    let idle = false;
    try {
      do {
        this.pumpAgain = false;
        const ending = this.pendingFinishes.splice(0);
        // Runs being recorded as ended still sit in `running`; their slots are free once this call commits.
        const free = this.stopping ? 0 : this.settings.maxConcurrent - this.running.size + ending.length;
        if (free <= 0 && ending.length === 0) break;
        const limits = free > 0 ? this.claimLimits(free, new Set(ending.map((e) => e.item.id))) : undefined;
        // The round trip also carries the buffered event-log entries (status changes, output).
        const { finished, claimed } = await this.outputLog.flushThrough((events) => this.finishAndClaim(ending, limits, events));
        const byId = new Map(finished.map((row) => [row.id, row]));
        for (const e of ending) e.resolve(byId.get(e.item.id));
        if (claimed.length > 0) {
          // One turn first: the ended runs' "completed" events go out before the new runs' "started".
          await new Promise((resolve) => setImmediate(resolve));
          // Claimed while stop() began: back to the queue, not started on a stopping worker.
          if (this.stopping) await this.store.release(this.workerId, claimed.map((row) => row.id));
          else for (const row of claimed) this.launch(row);
        }
        if (free > 0 && claimed.length === free) this.pumpAgain = true;
        else if (free > 0) idle = true;
        if (this.pendingFinishes.length > 0) this.pumpAgain = true;
      } while (this.pumpAgain);
      if (idle && !this.stopping) await this.armDelayedWakeup();
    } catch (error) {
      this.logger.error({ err: error }, "claiming tasks failed; trying again shortly");
    } finally {
      this.pumping = false;
      // Ends or wake-ups that arrived after the loop's last look (or while it failed) are not left waiting.
      if (this.pumpAgain || this.pendingFinishes.length > 0) this.schedulePump();
    }
  }

  private claimLimits(count: number, ending: ReadonlySet<string>): ClaimLimits {
    return {
      workerId: this.workerId,
      count,
      leaseMs: this.settings.leaseMs,
      maxPerDocument: this.settings.maxPerDocument,
      maxPerDrive: this.settings.maxPerDrive,
      typeSlots: this.typeSlots(ending),
      types: this.registry.types(),
    };
  }

  /**
   * Rejects the ends it could not record (settle() logs it; the lease returns the task). A failed
   * claim must not lose the ends that came with it: they are recorded again without a claim.
   */
  private async finishAndClaim(ending: PendingFinish[], limits: ClaimLimits | undefined, events: NewTaskEvent[]): Promise<{ finished: FinishedRow[]; claimed: ClaimedRow[] }> {
    const items = ending.map((e) => e.item);
    try {
      return await this.store.finishAndClaim(this.workerId, items, limits, events);
    } catch (error) {
      if (!limits || (items.length === 0 && events.length === 0)) {
        for (const e of ending) e.reject(error);
        throw error;
      }
      this.logger.error({ err: error }, "claiming tasks failed; recording the finished runs alone");
      try {
        return { finished: (await this.store.finishAndClaim(this.workerId, items, undefined, events)).finished, claimed: [] };
      } catch (again) {
        for (const e of ending) e.reject(again);
        throw again;
      }
    }
  }

  /** Queues a run's end for the pump's next round trip; resolves with the stored row (undefined: lease lost). */
  private recordEnd(item: Finish): Promise<FinishedRow | undefined> {
    return new Promise((resolve, reject) => {
      this.pendingFinishes.push({ item, resolve, reject });
      this.schedulePump();
    });
  }

  /** Retries wait in the queue with a future run_at: wake up when the next one is due. */
  private async armDelayedWakeup(): Promise<void> {
    const next = await this.store.nextRunAt();
    if (this.delayedTimer) clearTimeout(this.delayedTimer);
    this.delayedTimer = undefined;
    if (!next || this.stopping) return;
    const delay = Math.max(0, next.getTime() - Date.now()) + 5;
    if (delay > this.settings.pollIntervalMs) return; // the poll will come sooner
    this.delayedTimer = setTimeout(() => this.schedulePump(), delay);
    this.delayedTimer.unref();
  }

  private launch(row: ClaimedRow): void {
    const task = rowToTask(row);
    const controller = new AbortController();
    const entry: RunningTask = { task, controller, done: Promise.resolve() };
    this.running.set(task.id, entry);
    entry.done = this.runClaimed(task, row.attempts, controller)
      .catch((error: unknown) => this.logger.error({ err: error, taskId: task.id }, "recording a task outcome failed; its lease will return it to the queue"))
      .finally(() => {
        this.running.delete(task.id);
        this.outputLog.forget(task.id);
        this.schedulePump();
      });
  }

  private async runClaimed(task: Task, attempt: number, controller: AbortController): Promise<void> {
    this.logTransition(task, "started", { attempt });
    this.outputLog.append({ task_id: task.id, kind: "status", stream: null, data: JSON.stringify({ status: "running", attempt, workerId: this.workerId }) });
    this.emit("started", task, { workerId: this.workerId, attempt });
    const outcome = await this.executeTask(task, controller.signal, attempt);
    await this.settle(task, attempt, outcome);
  }

  private async settle(task: Task, attempt: number, outcome: AttemptOutcome): Promise<void> {
    const durationMs = outcome.durationMs;
    const result: JsonValue | null = outcome.result ?? null;
    if (outcome.status === "cancelled" && outcome.error.code === "shutdown") {
      await this.store.release(this.workerId, [task.id]);
      this.logTransition(task, "returned to the queue (shutdown)", { attempt, durationMs });
      this.outputLog.append({ task_id: task.id, kind: "status", stream: null, data: JSON.stringify({ status: "pending", reason: "shutdown" }) });
      this.emit("queued", task);
      return;
    }
    if (outcome.status === "failed" && outcome.error.kind === "retryable" && attempt < task.maxAttempts) {
      const delayMs = retryDelayMs(this.settings.retry, attempt, outcome.error.retryAfterMs);
      const row = await this.store.scheduleRetry({ id: task.id, workerId: this.workerId, delayMs, error: outcome.error, result });
      if (row) {
        this.metrics?.retried.inc({ type: task.type });
        this.metrics?.duration.observe({ type: task.type, outcome: "retried" }, durationMs / 1000);
        this.logTransition(task, "retrying", { attempt, durationMs, delayMs, error: outcome.error.code });
        this.outputLog.append({ task_id: task.id, kind: "status", stream: null, data: JSON.stringify({ status: "pending", retryInMs: delayMs, attempt, error: outcome.error }) });
        this.emit("retrying", rowToTask(row), { attempt, delayMs, error: outcome.error });
        this.schedulePump();
        return;
      }
      // A cancel arrived while it ran: fall through and record the end as cancelled.
    }
    const status = outcome.status === "failed" && (await this.cancelRequested(task.id)) ? "cancelled" : outcome.status;
    const error: TaskError | null = outcome.status === "completed" ? null : outcome.error;
    const row = await this.recordEnd({ id: task.id, status, result, error });
    if (!row) {
      this.logger.warn({ taskId: task.id, attempt }, "task outcome discarded: this worker no longer holds the task (lease lost)");
      return;
    }
    const finished = finishedTask(task, row);
    this.metrics?.duration.observe({ type: task.type, outcome: status }, durationMs / 1000);
    this.outputLog.append({ task_id: task.id, kind: "status", stream: null, data: JSON.stringify({ status, attempt, durationMs, ...(error ? { error } : {}) }) });
    this.logTransition(finished, status, { attempt, durationMs, ...(error ? { error: error.code } : {}) });
    // Dead row versions from claims and finishes slow every claim until vacuumed (see TaskStore.vacuum).
    const vacuumEvery = this.settings.vacuumEveryFinishes;
    if (vacuumEvery > 0 && ++this.finishedSinceVacuum >= vacuumEvery) void this.vacuum();
    if (status === "completed") {
      this.metrics?.completed.inc({ type: task.type });
      this.emit("completed", finished, { result, durationMs });
    } else if (status === "cancelled") {
      this.metrics?.cancelled.inc({ type: task.type });
      this.emit("cancelled", finished, { reason: error?.message ?? "cancelled", ...(result !== null ? { result } : {}), durationMs });
    } else if (error) {
      this.metrics?.failed.inc({ type: task.type, code: error.code });
      this.emit("failed", finished, { error, ...(result !== null ? { result } : {}), durationMs });
    }
  }

  private async cancelRequested(id: string): Promise<boolean> {
    return (await this.store.get(id))?.cancel_requested ?? false;
  }

  /** Renews this worker's leases, stops tasks cancelled elsewhere, and recovers dead workers' tasks. */
  private async heartbeat(): Promise<void> {
    const ids = this.runningTaskIds();
    if (ids.length > 0) {
      const held = await this.store.renewLeases(this.workerId, ids, this.settings.leaseMs);
      const heldIds = new Set(held.map((r) => r.id));
      for (const row of held) if (row.cancel_requested) this.abortLocal(row.id, "cancel");
      for (const id of ids) {
        // Lost the lease (this worker stalled past it): another worker may run the task now.
        if (!heldIds.has(id) && this.running.has(id)) this.abortLocal(id, "shutdown");
      }
    }
    const recovered = await this.store.recoverExpiredLeases();
    for (const row of recovered) {
      const task = rowToTask(row);
      this.logger.warn({ taskId: task.id, type: task.type, documentId: task.source?.documentId, attempt: task.attempts, status: task.status }, "recovered a task from a worker that stopped renewing its lease");
      this.outputLog.append({ task_id: task.id, kind: "status", stream: null, data: JSON.stringify({ status: task.status, recovered: true, error: task.error }) });
      if (task.status === "pending") this.emit("queued", task);
      else if (task.status === "cancelled") this.emit("cancelled", task, { reason: task.error?.message ?? "cancelled" });
      else if (task.error) this.emit("failed", task, { error: task.error, durationMs: 0 });
    }
    if (recovered.length > 0) this.schedulePump();
  }

  private async cleanup(): Promise<void> {
    const removed = await this.store.deleteExpired(this.settings.resultTtlMs);
    if (removed > 0) this.logger.info({ removed }, "removed finished tasks past their retention");
    if (this.settings.vacuumEveryFinishes > 0 && (removed > 0 || this.finishedSinceVacuum > 0)) await this.vacuum();
  }

  private async vacuum(): Promise<void> {
    this.finishedSinceVacuum = 0;
    await this.store.vacuum().catch((error: unknown) => this.logger.warn({ err: error }, "vacuum failed"));
  }

  private logTransition(task: Task, transition: string, extra: Record<string, unknown>): void {
    this.logger.info({ taskId: task.id, type: task.type, documentId: task.source?.documentId, attempt: task.attempts, ...extra }, `task ${transition}`);
  }
}
