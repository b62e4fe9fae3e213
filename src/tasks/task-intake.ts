/**
 * How tasks come into the store (the manager's enqueueTasks and rejectTask): each request parsed
 * against its type's schema, a follow-up's earlier task checked, the policy's admission, then one
 * insert for the batch; what was created is counted, logged and announced ("created", "queued"),
 * and the claimers are woken. A refused request (loop protection) is stored cancelled with why.
 */
import type { EventEmitter } from "node:events";
import type { Logger } from "../logger.js";
import type { TaskMetrics } from "../metrics.js";
import type { ConversationStore } from "../store/conversation-store.js";
import type { TaskStore } from "../store/task-store.js";
import { ValidationError } from "../validation.js";
import { admitTasks } from "./admit-tasks.js";
import type { DependencyFailures } from "./dependency-failures.js";
import type { EnqueueOptions } from "./enqueue-options.js";
import type { ExecutorRegistry } from "./executors/registry.js";
import { resolveFollowUps } from "./follow-ups.js";
import type { ManagerSettings } from "./manager-settings.js";
import { newTask } from "./new-task.js";
import { logTransition, type TaskLifecycleEvents } from "./task-events.js";
import { parseTaskRequest } from "./task-request.js";
import type { Task, TaskError } from "./types.js";

export interface TaskIntakeDeps {
  store: TaskStore;
  registry: ExecutorRegistry;
  settings: Pick<ManagerSettings, "agingMs" | "defaultMaxAttempts" | "defaultTimeoutMs">;
  conversations: ConversationStore;
  dependencyFailures: DependencyFailures;
  logger: Logger;
  metrics?: TaskMetrics | undefined;
  events: EventEmitter<TaskLifecycleEvents>;
  /** The stored task with this idempotency key, if any. */
  stored: (key: string) => Promise<Task | undefined>;
  /** New tasks of these types: rate-limited types are asked for again, and the claim pump runs. */
  added: (types: string[]) => void;
}

export class TaskIntake {
  constructor(private readonly deps: TaskIntakeDeps) {}

  /**
   * Validates and stores tasks; an existing idempotency key returns the task already stored.
   * `options.ids`: the tasks' ids, made beforehand so that tasks of the batch can name each other
   * in dependsOn; `options.within` writes what belongs with them in their transaction (a pipeline's row).
   */
  async enqueue(inputs: readonly unknown[], options: EnqueueOptions = {}): Promise<{ task: Task; created: boolean }[]> {
    const deps = this.deps;
    const label = (index: number) => (inputs.length > 1 ? `task #${index}` : "task");
    const built = inputs.map((input, index) => this.build(input, label(index), options.ids?.[index]));
    const tasks = await resolveFollowUps(deps.conversations, built, label, deps.stored); // a follow-up's earlier task checked, its project filled in
    await admitTasks(deps.registry, tasks, label, deps.stored); // what the policy would never run is refused now
    const inserted = await deps.store.insert(tasks, deps.settings.agingMs, options.within);
    // A dependency may have failed before its dependent was stored: no end of it will tell.
    const doomable = inserted.filter((s) => s.created && s.task.onDependencyFailure === "cancel").flatMap((s) => s.task.dependsOn ?? []);
    if (doomable.length > 0) await deps.dependencyFailures.check(doomable);
    for (const { task, created } of inserted) {
      if (!created) continue;
      deps.metrics?.created.inc({ type: task.type });
      // Its "pending" entry of the event log went in with the task (insertTasks).
      logTransition(deps.logger, task, "created", {});
      deps.events.emit("created", task);
      deps.events.emit("queued", task);
    }
    deps.added(inserted.filter((s) => s.created).map((s) => s.task.type));
    return inserted;
  }

  /**
   * Records a task that was asked for but refused (loop protection) as cancelled with the reason:
   * visible in the API and the dashboard, never silently dropped.
   */
  async reject(input: unknown, error: TaskError): Promise<Task | undefined> {
    const stored = await this.deps.store.insertRejected(this.build(input, "task"), error);
    if (!stored) return undefined;
    this.deps.metrics?.cancelled.inc({ type: stored.type });
    this.deps.logger.warn({ taskId: stored.id, type: stored.type, documentId: stored.source?.documentId, code: error.code }, `task refused: ${error.message}`);
    this.deps.events.emit("cancelled", stored, { reason: error.message });
    return stored;
  }

  /** A new task from a request; throws ValidationError naming `label` and every field problem. */
  private build(input: unknown, label: string, id?: string): Task {
    const parsed = parseTaskRequest(input, this.deps.registry);
    if (!parsed.ok) throw new ValidationError(label, parsed.errors);
    const executor = this.deps.registry.get(parsed.value.type);
    if (!executor) throw new Error(`no executor for '${parsed.value.type}'`);
    return newTask(parsed.value, executor, { maxAttempts: this.deps.settings.defaultMaxAttempts, timeoutMs: this.deps.settings.defaultTimeoutMs }, new Date(), id);
  }
}
