/**
 * Lifecycle events of the task manager, typed. Listeners: the event handler (writes back to
 * documents), the HTTP live streams, metrics, the CLI.
 */
import type { EventEmitter } from "node:events";
import type { Logger } from "../logger.js";
import type { ClaimedRow } from "../store/sql/claim-tasks.js";
import { rowToTask } from "../store/task-store.js";
import type { Task, TaskError, OutputChunk, ProgressEvent, JsonValue } from "./types.js";
import type { WaitingReason } from "./waiting-reason.js";

export interface TaskLifecycleEvents {
  /** Accepted by the store (not emitted for an idempotent duplicate). */
  created: [task: Task];
  /** Claimable: enqueued, retried by a person, or returned to the queue. */
  queued: [task: Task];
  started: [task: Task, info: { workerId: string; attempt: number }];
  output: [task: Task, chunk: OutputChunk];
  progress: [task: Task, event: ProgressEvent];
  retrying: [task: Task, info: { attempt: number; delayMs: number; error: TaskError }];
  completed: [task: Task, info: { result: JsonValue; durationMs: number }];
  failed: [task: Task, info: { error: TaskError; result?: JsonValue; durationMs: number }];
  cancelled: [task: Task, info: { reason: string; result?: JsonValue; durationMs?: number }];
  /** A claimed task went back to the queue to wait for a while, and why (its drive's or its asker's daily budget spent: holder-budget.ts). */
  waiting: [task: Task, reason: WaitingReason];
  /** An approval task now waits for a person's decision alone (approvals.ts). */
  awaitingApproval: [task: Task];
}

export type TaskEventName = keyof TaskLifecycleEvents;

/** Every state transition is logged once, with the task's id, type, document and attempt. */
export function logTransition(logger: Logger, task: Task, transition: string, extra: Record<string, unknown>): void {
  logger.info({ taskId: task.id, type: task.type, documentId: task.source?.documentId, attempt: task.attempts, ...extra }, `task ${transition}`);
}

/** A task claimed ahead that went back to the queue without running: logged, and "queued" again. */
export function announceReturned(logger: Logger, events: EventEmitter<TaskLifecycleEvents>, row: ClaimedRow, why: string): void {
  // As the release left it: pending, the attempt it never ran not counted.
  const task: Task = { ...rowToTask(row), status: "pending", attempts: Math.max(0, row.attempts - 1) };
  logTransition(logger, task, `returned to the queue (${why})`, {});
  events.emit("queued", task);
}
