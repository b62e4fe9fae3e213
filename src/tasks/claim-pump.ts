/**
 * The claim pump: the one place that talks to the store for a worker's running tasks. Each round
 * trip records the runs that ended since the last one, stores the buffered event-log entries, and
 * claims for every slot free after those ends — all in one call (a no-op task costs two row
 * updates and a share of one round trip). The TaskManager decides what a claimed task does; the
 * pump decides when to claim and how many.
 */
import type { Logger } from "../logger.js";
import type { ClaimLimits, Finish, NewTaskEvent } from "../store/interfaces.js";
import type { ClaimedRow, FinishedRow } from "../store/sql/claim-tasks.js";
import type { TaskStore } from "../store/task-store.js";
import type { ManagerSettings } from "./manager-settings.js";
import type { OutputLog } from "./output-log.js";
import type { Task } from "./types.js";

/** What the pump needs from the manager that owns it. */
export interface PumpHost {
  /** Tasks this worker runs now (their slots are taken). */
  running(): ReadonlyMap<string, { task: Task }>;
  /** The task types this worker has executors for. */
  types(): string[];
  /** Starts a claimed task. */
  launch(row: ClaimedRow): void;
  state(): "stopped" | "running" | "stopping";
}

/** A run's end waiting for the pump's next round trip. */
interface PendingFinish {
  item: Finish;
  resolve: (row: FinishedRow | undefined) => void;
  reject: (error: unknown) => void;
}

export class ClaimPump {
  /** Ends of runs to record; the next round trip writes them together with its claim. */
  private pendingFinishes: PendingFinish[] = [];
  private pumping = false;
  private again = false;
  private scheduled = false;
  /** The current pass: stop waits for it, so no claim lands after the manager stopped. */
  private pass: Promise<void> = Promise.resolve();
  private delayedTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: TaskStore,
    private readonly outputLog: OutputLog,
    private readonly settings: ManagerSettings,
    private readonly logger: Logger,
    private readonly host: PumpHost,
  ) {}

  /** Asks for a pass soon (coalesced: many calls in one turn make one pass). */
  schedule(): void {
    const state = this.host.state();
    // While stopping, the pump still records the ends of runs; it claims nothing.
    if (state === "stopped" || (state === "stopping" && this.pendingFinishes.length === 0) || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pass = this.run();
    });
  }

  /** Queues a run's end for the next round trip; resolves with the stored row (undefined: lease lost). */
  recordEnd(item: Finish): Promise<FinishedRow | undefined> {
    return new Promise((resolve, reject) => {
      this.pendingFinishes.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** For stop(): no more delayed wake-ups; resolves when the pass in flight is over. */
  async quiesce(): Promise<void> {
    if (this.delayedTimer) clearTimeout(this.delayedTimer);
    this.delayedTimer = undefined;
    await this.pass;
  }

  private async run(): Promise<void> {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    let idle = false;
    try {
      do {
        this.again = false;
        const stopping = this.host.state() !== "running";
        const ending = this.pendingFinishes.splice(0);
        // Runs being recorded as ended still count as running here; their slots are free once this call commits.
        const free = stopping ? 0 : this.settings.maxConcurrent - this.host.running().size + ending.length;
        if (free <= 0 && ending.length === 0) break;
        const limits = free > 0 ? this.claimLimits(free, new Set(ending.map((e) => e.item.id))) : undefined;
        const { finished, claimed } = await this.outputLog.flushThrough((events) => this.finishAndClaim(ending, limits, events));
        const byId = new Map(finished.map((row) => [row.id, row]));
        for (const e of ending) e.resolve(byId.get(e.item.id));
        if (claimed.length > 0) {
          // One turn first: the ended runs' "completed" events go out before the new runs' "started".
          await new Promise((resolve) => setImmediate(resolve));
          // Claimed while a stop began: back to the queue, not started on a stopping worker.
          // (the release logs that they went back, as the claim logged them running)
          if (this.host.state() !== "running") await this.store.release(this.settings.workerId, claimed.map((row) => row.id));
          else for (const row of claimed) this.host.launch(row);
        }
        if (free > 0 && claimed.length === free) this.again = true;
        else if (free > 0) idle = true;
        if (this.pendingFinishes.length > 0) this.again = true;
      } while (this.again);
      if (idle && this.host.state() === "running") await this.armDelayedWakeup();
    } catch (error) {
      this.logger.error({ err: error }, "claiming tasks failed; trying again shortly");
    } finally {
      this.pumping = false;
      // Ends or wake-ups that arrived after the loop's last look (or while it failed) are not left waiting.
      if (this.again || this.pendingFinishes.length > 0) this.schedule();
    }
  }

  private claimLimits(count: number, ending: ReadonlySet<string>): ClaimLimits {
    return {
      workerId: this.settings.workerId,
      count,
      leaseMs: this.settings.leaseMs,
      maxPerDocument: this.settings.maxPerDocument,
      maxPerDrive: this.settings.maxPerDrive,
      typeSlots: this.typeSlots(ending),
      types: this.host.types(),
    };
  }

  /** Room left per capped type; runs in `ending` are recorded as finished in the same call, so their slots count as free. */
  private typeSlots(ending: ReadonlySet<string>): Record<string, number> {
    const slots: Record<string, number> = {};
    for (const [type, cap] of Object.entries(this.settings.typeConcurrency)) {
      let used = 0;
      for (const run of this.host.running().values()) if (run.task.type === type && !ending.has(run.task.id)) used++;
      slots[type] = Math.max(0, cap - used);
    }
    return slots;
  }

  /**
   * Rejects the ends it could not record (the manager logs it; the lease returns the task). A failed
   * claim must not lose the ends that came with it: they are recorded again without a claim.
   */
  private async finishAndClaim(ending: PendingFinish[], limits: ClaimLimits | undefined, events: NewTaskEvent[]): Promise<{ finished: FinishedRow[]; claimed: ClaimedRow[] }> {
    const items = ending.map((e) => e.item);
    const workerId = this.settings.workerId;
    try {
      return await this.store.finishAndClaim(workerId, items, limits, events);
    } catch (error) {
      if (!limits || (items.length === 0 && events.length === 0)) {
        for (const e of ending) e.reject(error);
        throw error;
      }
      this.logger.error({ err: error }, "claiming tasks failed; recording the finished runs alone");
      try {
        return { finished: (await this.store.finishAndClaim(workerId, items, undefined, events)).finished, claimed: [] };
      } catch (again) {
        for (const e of ending) e.reject(again);
        throw again;
      }
    }
  }

  /** Retries wait in the queue with a future run_at: wake up when the next one is due. */
  private async armDelayedWakeup(): Promise<void> {
    const next = await this.store.nextRunAt();
    if (this.delayedTimer) clearTimeout(this.delayedTimer);
    this.delayedTimer = undefined;
    if (!next || this.host.state() !== "running") return;
    const delay = Math.max(0, next.getTime() - Date.now()) + 5;
    if (delay > this.settings.pollIntervalMs) return; // the poll will come sooner
    this.delayedTimer = setTimeout(() => this.schedule(), delay);
    this.delayedTimer.unref();
  }
}
