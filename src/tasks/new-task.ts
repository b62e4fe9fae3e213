/**
 * Turning a validated request into a task: an id, status pending, and the defaults the
 * configuration and the executor give for what the request left out.
 */
import { v7 as uuidv7 } from "uuid";
import type { Task } from "./types.js";
import type { TaskRequest } from "./task-request.js";
import type { TaskExecutor } from "./executors/executor.js";

export interface TaskDefaults {
  maxAttempts: number;
  timeoutMs: number;
}

/** `id`: made here unless given (tasks stored together that name each other: a pipeline's steps). */
export function newTask(request: TaskRequest, executor: Pick<TaskExecutor, "defaultPriority">, defaults: TaskDefaults, now = new Date(), id: string = uuidv7()): Task {
  const { priority, maxAttempts, timeoutMs, ...rest } = request;
  return {
    ...rest,
    // Time-ordered (UUID v7, monotonic within a process): the primary key is also the listing
    // order, so no second index on creation time has to be written by every claim and finish.
    id,
    status: "pending",
    priority: typeof priority === "number" ? priority : (executor.defaultPriority ?? 50),
    attempts: 0,
    maxAttempts: typeof maxAttempts === "number" ? maxAttempts : defaults.maxAttempts,
    timeoutMs: typeof timeoutMs === "number" ? timeoutMs : defaults.timeoutMs,
    createdAt: now,
    updatedAt: now,
  };
}
