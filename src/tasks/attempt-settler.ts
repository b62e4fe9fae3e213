/**
 * What happens after an attempt: the run's outcome becomes the task's next state. A shutdown
 * returns it to the queue; a retryable failure with attempts left waits for its retry (backoff, or
 * the executor's retry-after); anything else is recorded as the end — completed, failed, or
 * cancelled when a cancel arrived while it ran — through the claim pump's next round trip. Each
 * step is logged once, counted, and announced as a lifecycle event.
 */
import type { EventEmitter } from "node:events";
import type { Logger } from "../logger.js";
import { countRunCpu, type TaskMetrics } from "../metrics.js";
import { finishedTask, rowToTask, type TaskStore } from "../store/task-store.js";
import type { ClaimPump } from "./claim-pump.js";
import type { AttemptOutcome } from "./execute-attempt.js";
import { retryDelayMs, type RetryPolicy } from "./retry-policy.js";
import type { StoreUpkeep } from "./store-upkeep.js";
import type { TaskBudgets } from "./task-budgets.js";
import { logTransition, type TaskLifecycleEvents } from "./task-events.js";
import type { JsonValue, Task, TaskError } from "./types.js";

export interface SettlerDeps {
  store: TaskStore;
  workerId: string;
  retry: RetryPolicy;
  pump: ClaimPump;
  upkeep: StoreUpkeep;
  /** Where what a run cost is recorded (before its end, so the spend is known when the end is). */
  spend?: Pick<TaskBudgets, "record">;
  events: EventEmitter<TaskLifecycleEvents>;
  logger: Logger;
  metrics?: TaskMetrics;
}

export class AttemptSettler {
  constructor(private readonly deps: SettlerDeps) {}

  async settle(task: Task, attempt: number, outcome: AttemptOutcome): Promise<void> {
    const durationMs = outcome.durationMs;
    const result: JsonValue | null = outcome.result ?? null;
    countRunCpu(this.deps.metrics, task.type, result); // every run, whatever comes of it
    await this.deps.spend?.record(task, attempt, result); // so does what it cost
    if (outcome.status === "cancelled" && outcome.error.code === "shutdown") {
      await this.deps.store.release(this.deps.workerId, [task.id]);
      logTransition(this.deps.logger, task, "returned to the queue (shutdown)", { attempt, durationMs });
      this.deps.events.emit("queued", task);
      return;
    }
    if (outcome.status === "failed" && outcome.error.kind === "retryable" && attempt < task.maxAttempts) {
      const delayMs = retryDelayMs(this.deps.retry, attempt, outcome.error.retryAfterMs);
      const row = await this.deps.store.scheduleRetry({ id: task.id, workerId: this.deps.workerId, delayMs, error: outcome.error, result });
      if (row) {
        this.deps.metrics?.retried.inc({ type: task.type });
        this.deps.metrics?.duration.observe({ type: task.type, outcome: "retried" }, durationMs / 1000);
        logTransition(this.deps.logger, task, "retrying", { attempt, durationMs, delayMs, error: outcome.error.code });
        // Its "pending" entry of the event log went in with the change (scheduleRetry).
        this.deps.events.emit("retrying", rowToTask(row), { attempt, delayMs, error: outcome.error });
        this.deps.pump.wakeAt(Date.now() + delayMs);
        this.deps.pump.schedule();
        return;
      }
      // A cancel arrived while it ran: fall through and record the end as cancelled.
    }
    const status = outcome.status === "failed" && (await this.cancelRequested(task.id)) ? "cancelled" : outcome.status;
    const error: TaskError | null = outcome.status === "completed" ? null : outcome.status === "cancelled" && outcome.error.code === "cancelled" ? await this.withCancelReason(task.id, outcome.error) : outcome.error;
    // Recording the end also writes its status entry to the event log, in the same transaction.
    const row = await this.deps.pump.recordEnd({ id: task.id, status, result, error, durationMs });
    if (!row) {
      this.deps.logger.warn({ taskId: task.id, attempt }, "task outcome discarded: this worker no longer holds the task (lease lost)");
      return;
    }
    const finished = finishedTask(task, row);
    this.deps.metrics?.duration.observe({ type: task.type, outcome: status }, durationMs / 1000);
    logTransition(this.deps.logger, finished, status, { attempt, durationMs, ...(error ? { error: error.code } : {}) });
    this.deps.upkeep.finished();
    if (status === "completed") {
      this.deps.metrics?.completed.inc({ type: task.type });
      this.deps.events.emit("completed", finished, { result, durationMs });
    } else if (status === "cancelled") {
      this.deps.metrics?.cancelled.inc({ type: task.type });
      this.deps.events.emit("cancelled", finished, { reason: error?.message ?? "cancelled", ...(result !== null ? { result } : {}), durationMs });
    } else if (error) {
      this.deps.metrics?.failed.inc({ type: task.type, code: error.code });
      this.deps.events.emit("failed", finished, { error, ...(result !== null ? { result } : {}), durationMs });
    }
  }

  /** A run stopped by a cancel: its error says why the cancel was asked for (request-cancel.ts keeps it). */
  private async withCancelReason(id: string, error: TaskError): Promise<TaskError> {
    const asked = (await this.deps.store.get(id))?.error;
    return asked?.code === "cancelled" && asked.message !== error.message ? { ...error, message: `${asked.message}: ${error.message}` } : error;
  }

  private async cancelRequested(id: string): Promise<boolean> {
    return (await this.deps.store.get(id))?.cancel_requested ?? false;
  }
}
