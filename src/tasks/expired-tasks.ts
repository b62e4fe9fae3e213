/**
 * startBy: a task not started by then is cancelled with the code "expired", never run. Two places
 * make sure of it: a worker that claims a task after its startBy ends it instead of running it
 * (expiryOf, at launch — also a task claimed ahead that waited for a slot), and every worker looks
 * for pending ones past it every SWEEP_MS (those no worker claims: a paused type, a full queue).
 */
import type { Logger } from "../logger.js";
import type { TaskStore } from "../store/task-store.js";
import type { AttemptOutcome } from "./execute-attempt.js";
import type { Task } from "./types.js";
import { cancelInBatches, type CancelTask } from "./cancel-in-batches.js";

export const EXPIRED = "expired";
export const EXPIRY_SWEEP_MS = 5000;

const reason = (startBy: string) => `not started by its startBy (${startBy})`;

/** The outcome of a claimed task that must not run any more; undefined when it may. */
export function expiryOf(task: Task, now = Date.now()): AttemptOutcome | undefined {
  if (typeof task.startBy !== "string" || Date.parse(task.startBy) > now) return undefined;
  return { status: "cancelled", error: { kind: "fatal", code: EXPIRED, message: reason(task.startBy) }, durationMs: 0 };
}

/** Cancels the pending tasks past their startBy; how many. */
export async function cancelExpiredTasks(store: TaskStore, cancel: CancelTask, logger: Logger): Promise<number> {
  const find = async (limit: number) => (await store.expired(limit)).map((task) => ({ id: task.id, reason: reason(task.start_by) }));
  const cancelled = await cancelInBatches(find, cancel, EXPIRED);
  if (cancelled > 0) logger.info({ cancelled }, "cancelled tasks not started by their startBy");
  return cancelled;
}
