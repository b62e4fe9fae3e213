/**
 * Admission: each new task checked against this agent's policy as its executor sees it (the
 * command allow-list, the working-directory roots, the permission modes — TaskExecutor.admit), so
 * a request that could never run is refused when it is made, naming the field, instead of being
 * stored and failing when it runs. All or nothing, like the validation before it.
 */
import { ValidationError, type FieldError } from "../validation.js";
import type { ExecutorRegistry } from "./executors/registry.js";
import { newTask } from "./new-task.js";
import type { TaskRequest } from "./task-request.js";
import type { Task } from "./types.js";

/**
 * Throws ValidationError (named by `label(index)`) for the first task its executor refuses — unless
 * its idempotency key is stored already (`stored`): a repeated request gets the task it made,
 * whatever the policy says now.
 */
export async function admitTasks(registry: ExecutorRegistry, tasks: readonly Task[], label: (index: number) => string, stored: (key: string) => Promise<unknown>): Promise<void> {
  for (const [index, task] of tasks.entries()) {
    const problems = (await registry.get(task.type)?.admit?.(task)) ?? [];
    if (problems.length === 0 || (task.idempotencyKey && (await stored(task.idempotencyKey)))) continue;
    throw new ValidationError(label(index), problems);
  }
}

/**
 * What admission says of a request that parsed, before anything is made of it: a schedule being
 * saved, or an API request before its task document is added to the drive (which would sync).
 */
export async function requestProblems(registry: ExecutorRegistry, request: TaskRequest): Promise<FieldError[]> {
  const executor = registry.get(request.type);
  if (!executor?.admit) return [];
  return executor.admit(newTask(request, executor, { maxAttempts: 1, timeoutMs: 1 }));
}
