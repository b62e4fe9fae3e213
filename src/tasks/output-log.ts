/**
 * The stored event log of each task (status changes, output chunks, progress), written in
 * batches so a chatty process costs one INSERT per flush interval, and kept within a byte budget
 * per task so a live view can replay it after a restart without the table growing without bound.
 */
import type { Logger } from "../logger.js";
import type { TaskStore } from "../store/task-store.js";
import type { NewTaskEvent } from "../store/interfaces.js";

export class OutputLog {
  private pending: NewTaskEvent[] = [];
  private pendingBytes = 0;
  private readonly storedBytes = new Map<string, number>();
  private readonly overBudget = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: TaskStore,
    private readonly options: { maxBytesPerTask: number; flushIntervalMs: number; logger: Logger },
  ) {}

  append(event: Omit<NewTaskEvent, "bytes">): void {
    const bytes = Buffer.byteLength(event.data);
    this.pending.push({ ...event, bytes });
    this.pendingBytes += bytes;
    if (event.kind === "output") {
      const total = (this.storedBytes.get(event.task_id) ?? 0) + bytes;
      this.storedBytes.set(event.task_id, total);
      if (total > this.options.maxBytesPerTask) this.overBudget.add(event.task_id);
    }
    if (this.pendingBytes > 256 * 1024) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.options.flushIntervalMs);
  }

  /** A task ended: forget its byte count (its events stay stored). */
  forget(taskId: string): void {
    this.storedBytes.delete(taskId);
  }

  /**
   * Stores the buffered entries through `write` — the manager's claim round trip, which inserts them
   * in its own transaction — instead of an INSERT and a commit of their own. Chained with the
   * flushes, so entries reach the table in the order they were appended.
   */
  flushThrough<T>(write: (events: NewTaskEvent[]) => Promise<T>): Promise<T> {
    const batch = this.takePending();
    // Trimming waits for the next flush: it must come after these entries are stored.
    if (this.overBudget.size > 0) this.timer ??= setTimeout(() => void this.flush(), this.options.flushIntervalMs);
    const previous = this.flushing;
    const written = previous.then(() => write(batch));
    this.flushing = written.then(
      () => undefined,
      () => undefined,
    );
    return written;
  }

  flush(): Promise<void> {
    const batch = this.takePending();
    const trim = [...this.overBudget];
    this.overBudget.clear();
    const previous = this.flushing;
    this.flushing = (async () => {
      await previous;
      try {
        await this.store.appendEvents(batch);
        for (const taskId of trim) {
          await this.store.trimEvents(taskId, this.options.maxBytesPerTask);
          this.storedBytes.set(taskId, this.options.maxBytesPerTask);
        }
      } catch (error) {
        // Losing a slice of the live log must not stop the task; the result keeps the output.
        this.options.logger.warn({ err: error, events: batch.length }, "could not store task output");
      }
    })();
    return this.flushing;
  }

  private takePending(): NewTaskEvent[] {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    return batch;
  }
}
