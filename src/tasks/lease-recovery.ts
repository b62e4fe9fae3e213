/**
 * Lease recovery: the tasks of workers that stopped renewing their leases (killed, frozen, cut
 * off) go back to the queue — or end, when their attempts are used up or a cancel was asked for —
 * and every worker's heartbeat looks for them. Each recovered task is logged and announced with the
 * lifecycle event of where it went.
 */
import type { EventEmitter } from "node:events";
import type { Logger } from "../logger.js";
import { rowToTask, type TaskStore } from "../store/task-store.js";
import type { TaskLifecycleEvents } from "./task-events.js";

/** Returns how many tasks were recovered. */
export async function recoverExpiredTasks(store: TaskStore, logger: Logger, events: EventEmitter<TaskLifecycleEvents>): Promise<number> {
  const recovered = await store.recoverExpiredLeases();
  for (const row of recovered) {
    const task = rowToTask(row);
    logger.warn({ taskId: task.id, type: task.type, documentId: task.source?.documentId, attempt: task.attempts, status: task.status }, "recovered a task from a worker that stopped renewing its lease");
    if (task.status === "pending") events.emit("queued", task);
    else if (task.status === "cancelled") events.emit("cancelled", task, { reason: task.error?.message ?? "cancelled" });
    else if (task.error) events.emit("failed", task, { error: task.error, durationMs: 0 });
  }
  return recovered.length;
}
