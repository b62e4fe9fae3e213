/**
 * Maps a task type to its executor. Adding a task type = registering one executor: validation,
 * scheduling, storage and the API pick it up from here.
 */
import type { Task } from "../types.js";
import type { TaskExecutor } from "./executor.js";

/** Task types no executor may take: a task document naming "pipeline" asks for a pipeline (pipeline-documents.ts). */
export const RESERVED_TASK_TYPES: ReadonlySet<string> = new Set(["pipeline"]);

export class ExecutorRegistry {
  private readonly executors = new Map<string, TaskExecutor>();

  register<T extends Task>(executor: TaskExecutor<T>): this {
    if (RESERVED_TASK_TYPES.has(executor.type)) throw new Error(`task type '${executor.type}' is reserved: a task document of that type asks for a pipeline`);
    if (this.executors.has(executor.type)) {
      throw new Error(`an executor for task type '${executor.type}' is already registered`);
    }
    // The manager only hands an executor tasks its own requestSchema accepted.
    this.executors.set(executor.type, executor);
    return this;
  }

  get(type: string): TaskExecutor | undefined {
    return this.executors.get(type);
  }

  has(type: string): boolean {
    return this.executors.has(type);
  }

  types(): string[] {
    return [...this.executors.keys()].sort();
  }
}
