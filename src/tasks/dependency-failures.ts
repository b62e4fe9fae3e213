/**
 * onDependencyFailure "cancel": a waiting task whose dependency failed for good, was cancelled or
 * is gone (removed by retention) is cancelled too, with the error code dependency_failed and the
 * dependency named — and its own such dependents after it, down the chain (each cancel is an end
 * that is checked in turn). "wait", the default, leaves it waiting for a retry of the dependency.
 *
 * When: at once after a task of this worker fails for good or is cancelled (the manager's events),
 * after tasks that ask for it are stored (a dependency may have failed already), and every
 * SWEEP_MS on every worker — for a worker that died between a task's end and this. Cancelling is
 * idempotent (a task already ended is left alone), so two workers doing it at once cancel it once.
 */
import type { Logger } from "../logger.js";
import type { TaskStore } from "../store/task-store.js";
import type { DoomedDependent } from "../store/sql/select-doomed-dependents.js";
import { cancelInBatches, type CancelTask } from "./cancel-in-batches.js";

export const DEPENDENCY_FAILED = "dependency_failed";
/** How often every worker looks for doomed dependents whatever happened. */
export const SWEEP_MS = 30_000;

export function dependencyFailureReason(doomed: DoomedDependent): string {
  const what = doomed.dependency_status === null ? "is gone" : doomed.dependency_status === "failed" ? "failed" : "was cancelled";
  return `task ${doomed.dependency} it depends on ${what} (onDependencyFailure: cancel)`;
}

export class DependencyFailures {
  constructor(
    private readonly store: TaskStore,
    private readonly cancel: CancelTask,
    private readonly logger: Logger,
  ) {}

  /** Cancels the doomed dependents of `of` (or every doomed one); how many were cancelled. */
  check(of?: readonly string[]): Promise<number> {
    const find = async (limit: number) => (await this.store.doomedDependents(of, limit)).map((task) => ({ id: task.id, reason: dependencyFailureReason(task) }));
    return cancelInBatches(find, this.cancel, DEPENDENCY_FAILED);
  }

  /** check() that logs instead of throwing: it runs from events and timers. */
  checkQuietly(of?: readonly string[]): Promise<void> {
    return this.check(of).then(
      () => undefined,
      (error: unknown) => this.logger.error({ err: error }, "cancelling the dependents of a failed task failed; the next sweep tries again"),
    );
  }
}
