/**
 * How a task looks over HTTP: its fields, dates as ISO strings, and its run-time details.
 */
import type { TaskRuntime } from "../store/task-store.js";
import type { Task } from "../tasks/types.js";

export type TaskWithRuntime = Task & { runtime?: TaskRuntime };

const iso = (date: Date | null | undefined) => (date ? date.toISOString() : null);

export function taskToJson(task: TaskWithRuntime): Record<string, unknown> {
  const { runtime, createdAt, updatedAt, ...rest } = task;
  return {
    ...rest,
    createdAt: iso(createdAt),
    updatedAt: iso(updatedAt),
    ...(runtime
      ? {
          startedAt: iso(runtime.startedAt),
          finishedAt: iso(runtime.finishedAt),
          runAt: iso(runtime.runAt),
          workerId: runtime.workerId,
          cancelRequested: runtime.cancelRequested,
        }
      : {}),
  };
}
