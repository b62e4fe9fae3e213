/**
 * Turning a validated request into a task: an id, status pending, and the defaults the
 * configuration and the executor give for what the request left out.
 */
import { randomUUID } from "node:crypto";
import type { Task } from "./types.js";
import type { TaskRequest } from "./task-request.js";
import type { TaskExecutor } from "./executors/executor.js";

export interface TaskDefaults {
  maxAttempts: number;
  timeoutMs: number;
}

export function newTask(request: TaskRequest, executor: Pick<TaskExecutor, "defaultPriority">, defaults: TaskDefaults, now = new Date()): Task {
  const { priority, maxAttempts, timeoutMs, ...rest } = request;
  return {
    ...rest,
    id: randomUUID(),
    status: "pending",
    priority: typeof priority === "number" ? priority : (executor.defaultPriority ?? 50),
    attempts: 0,
    maxAttempts: typeof maxAttempts === "number" ? maxAttempts : defaults.maxAttempts,
    timeoutMs: typeof timeoutMs === "number" ? timeoutMs : defaults.timeoutMs,
    createdAt: now,
    updatedAt: now,
  };
}
