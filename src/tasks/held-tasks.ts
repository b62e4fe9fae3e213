/**
 * The tasks a worker holds from launch until their end is recorded, and how many of them run (each
 * run takes one of its TASK_MAX_CONCURRENT slots). A claimed task ended without running (cancelled
 * or expired before its start) is held too, without a slot, so that stop waits for its end as well.
 */
import type { RunningTask } from "./running-task.js";
import type { Task } from "./types.js";

export interface HeldTasksHooks {
  /** A held task's end was recorded (or recording it failed): it is no longer held. */
  released(task: Task): void;
  /** A run returned: its slot is free while its end is being recorded. */
  slotFreed(): void;
  /** Recording a task's end failed; its lease will return it to the queue. */
  failed(error: unknown, task: Task): void;
}

export class HeldTasks {
  private readonly byId = new Map<string, RunningTask>();
  private executingCount = 0;

  constructor(private readonly hooks: HeldTasksHooks) {}

  /** How many runs hold a slot now. */
  get executing(): number {
    return this.executingCount;
  }

  *executingTasks(): Iterable<Task> {
    for (const run of this.byId.values()) if (run.executing) yield run.task;
  }

  get(id: string): RunningTask | undefined {
    return this.byId.get(id);
  }

  ids(): string[] {
    return [...this.byId.keys()];
  }

  /** Holds `task` until `work` has recorded its end: a run (taking a slot while `executing`), or a claimed task ended without running. */
  hold(task: Task, executing: boolean, work: (entry: RunningTask) => Promise<void>): void {
    const entry: RunningTask = { task, controller: new AbortController(), executing, done: Promise.resolve() };
    this.byId.set(task.id, entry);
    if (executing) this.executingCount++;
    entry.done = work(entry)
      .catch((error: unknown) => this.hooks.failed(error, task))
      .finally(() => {
        this.byId.delete(task.id);
        this.hooks.released(task);
      });
  }

  /** The run of `entry` returned: its slot is free (the store counts it running until its end is recorded). */
  freeSlot(entry: RunningTask): void {
    if (!entry.executing) return;
    entry.executing = false;
    this.executingCount--;
    this.hooks.slotFreed();
  }

  /** Resolves once every task held now has its end recorded. */
  async allDone(): Promise<void> {
    await Promise.allSettled([...this.byId.values()].map((r) => r.done));
  }

  /** Aborts every held task's run with `reason`. */
  abortAll(reason: unknown): void {
    for (const run of this.byId.values()) run.controller.abort(reason);
  }
}
