/**
 * The claim pump: the one place that talks to the store for a worker's running tasks. Each round
 * trip records the runs that ended since the last one, stores the buffered event-log entries, and
 * claims for every slot free — all in one call (a no-op task costs two row updates and a share of
 * one round trip). The TaskManager decides what a claimed task does; the pump decides when to
 * claim, how many, and when a claimed task starts.
 *
 * Batches and overlap: a slot is free as soon as its run returns, before the run's end is
 * recorded (the store still counts the task as running until then, so the per-document and
 * per-drive limits only err on the safe side). While runs are short, the pump also claims up to
 * `prefetch` tasks beyond the free slots and keeps them ready, so a slot that frees is taken at
 * once instead of after a round trip. Before each round trip the pump starts what is ready and
 * gives the runs one turn of the event loop: those that end at once (a no-op, a cached answer)
 * join this round trip, which records and claims up to `maxConcurrent + prefetch` tasks at a time;
 * longer runs go on while the round trip is out, and ready tasks take their slots as they free.
 * Prefetch turns itself off when runs are long (a ready task would wait for a slot while another
 * worker could run it), and a ready task that waited too long goes back to the queue.
 */
import type { Logger } from "../logger.js";
import type { ClaimLimits, Finish, NewTaskEvent } from "../store/interfaces.js";
import type { ClaimedRow, FinishedRow } from "../store/sql/claim-tasks.js";
import type { ReleaseReason } from "../store/sql/release-tasks.js";
import type { TaskStore } from "../store/task-store.js";
import type { ManagerSettings } from "./manager-settings.js";
import type { OutputLog } from "./output-log.js";
import type { TypeRateLimits } from "./type-rate-limits.js";
import type { PendingFinish, PumpHost, ReadyTask, RoundTrip, TripReply } from "./claim-pump-types.js";

/** Runs shorter than this (recent weighted average) turn prefetch on. */
export const PREFETCH_MAX_RUN_MS = 50;
/** Waits before each try at recording runs' ends alone after a round trip failed (recordAlone). */
export const RECORD_RETRY_DELAYS_MS = [0, 100, 500, 2000];
/** A ready task not started within this long goes back to the queue (see releaseStale). */
export const READY_MAX_WAIT_MS = 1000;

export class ClaimPump {
  /** Ends of runs to record; the next round trip writes them together with its claim. */
  private pendingFinishes: PendingFinish[] = [];
  /** Claimed tasks waiting for a slot, in rank order. */
  private ready: ReadyTask[] = [];
  /** Weighted average of recent run durations; unknown (no prefetch) until a run has ended. */
  private recentRunMs = Number.POSITIVE_INFINITY;
  private pumping = false;
  private again = false;
  private scheduled = false;
  /** The current pass: stop waits for it, so no claim lands after the manager stopped. */
  private pass: Promise<void> = Promise.resolve();
  private delayedTimer: NodeJS.Timeout | undefined;
  private delayedAt = 0;
  /** When the full window of a rate-limited type has room again (from the last reservation). */
  private rateFreeAt: number | undefined;

  constructor(
    private readonly store: TaskStore,
    private readonly outputLog: OutputLog,
    private readonly settings: ManagerSettings,
    private readonly logger: Logger,
    private readonly host: PumpHost,
    /** Rate limits per task type: starts are reserved before each claim of a limited type. */
    private readonly rateLimits?: TypeRateLimits,
  ) {}

  /** Asks for a pass soon (coalesced: many calls in one turn make one pass). */
  schedule(): void {
    const state = this.host.state();
    // While stopping, the pump still records the ends of runs; it claims nothing.
    if (state === "stopped" || (state === "stopping" && this.pendingFinishes.length === 0) || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      // A loop in flight takes the request; `pass` stays that loop, so stop() waits for its claim.
      if (this.pumping) this.again = true;
      else this.pass = this.run();
    });
  }

  /** Queues a run's end for the next round trip; resolves with the stored row (undefined: lease lost). */
  recordEnd(item: Finish): Promise<FinishedRow | undefined> {
    const ms = item.durationMs ?? 0;
    this.recentRunMs = Number.isFinite(this.recentRunMs) ? 0.8 * this.recentRunMs + 0.2 * ms : ms;
    return new Promise((resolve, reject) => {
      this.pendingFinishes.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /**
   * A run returned and its slot is free. With a round trip in flight a ready task takes the slot
   * now; otherwise the next pass starts it before it sends its round trip.
   */
  slotFreed(): void {
    if (this.pumping) this.drain();
    else this.schedule();
  }

  /** Ids of the claimed tasks waiting for a slot (their leases are renewed like running ones). */
  readyIds(): string[] {
    return this.ready.map((r) => r.row.id);
  }

  /** Takes a ready task out (cancelled, or its lease lost); undefined when it is not waiting here. */
  takeReady(id: string): ClaimedRow | undefined {
    const at = this.ready.findIndex((r) => r.row.id === id);
    if (at < 0) return undefined;
    const taken = this.ready.splice(at, 1);
    void this.giveBackStarts(taken);
    return taken[0]?.row;
  }

  /**
   * Ready tasks that waited longer than `maxWaitMs` go back to the queue, where another worker can
   * take them (this one's slots are held by long runs); prefetch stays off until runs are short
   * again. Returns the tasks released.
   */
  async releaseStale(maxWaitMs = this.settings.readyMaxWaitMs ?? READY_MAX_WAIT_MS): Promise<ClaimedRow[]> {
    const now = Date.now();
    const stale = this.ready.filter((r) => now - r.claimedAt > maxWaitMs);
    if (stale.length === 0) return [];
    this.ready = this.ready.filter((r) => now - r.claimedAt <= maxWaitMs);
    this.recentRunMs = Math.max(this.recentRunMs, ...stale.map((r) => now - r.claimedAt));
    return (await this.releaseUnstarted(stale, "not started")).map((r) => r.row);
  }

  /**
   * For stop(): no more delayed wake-ups; the pass in flight is over and ready tasks are back in
   * the queue. Returns those tasks.
   */
  async quiesce(): Promise<ClaimedRow[]> {
    if (this.delayedTimer) clearTimeout(this.delayedTimer);
    this.delayedTimer = undefined;
    await this.pass;
    const ready = this.ready.splice(0);
    if (ready.length === 0) return [];
    return (await this.releaseUnstarted(ready, "shutdown")).map((r) => r.row);
  }

  /**
   * Claimed tasks that will not start here go back to the queue, and their rate-limit starts to
   * the window. Returns those the store released (not one whose lease this worker lost meanwhile).
   */
  private async releaseUnstarted(tasks: readonly ReadyTask[], reason: ReleaseReason): Promise<ReadyTask[]> {
    const released = new Set(await this.store.release(this.settings.workerId, tasks.map((t) => t.row.id), reason));
    const back = tasks.filter((t) => released.has(t.row.id));
    await this.giveBackStarts(back);
    return back;
  }

  /**
   * Claimed tasks of rate-limited types that go back unstarted (or are cancelled before they
   * start) give their starts back to the window: a claim that ran nothing does not use the limit.
   */
  private async giveBackStarts(tasks: readonly ReadyTask[]): Promise<void> {
    if (!this.rateLimits) return;
    await this.rateLimits.giveBack(tasks.flatMap((r) => (r.startAt === undefined ? [] : [{ type: r.row.type, at: r.startAt }])));
  }

  /** Claimed tasks a worker may hold beyond its free slots now. */
  private prefetch(): number {
    return this.recentRunMs <= (this.settings.prefetchMaxRunMs ?? PREFETCH_MAX_RUN_MS) ? (this.settings.prefetch ?? 0) : 0;
  }

  /**
   * Starts ready tasks in the free slots; returns how many. A ready task of a type this worker no
   * longer claims — it was asked to drain, or the type was paused, after the claim — goes back.
   */
  private drain(): number {
    let started = 0;
    const refused: ReadyTask[] = [];
    while (this.ready.length > 0 && this.host.state() === "running" && this.host.executingCount() < this.settings.maxConcurrent) {
      const next = this.ready.shift();
      if (!next) break;
      if (!this.host.claims(next.row.type)) {
        refused.push(next);
        continue;
      }
      this.host.launch(next.row);
      started++;
    }
    if (refused.length > 0) void this.sendBack(refused);
    return started;
  }

  /** Claimed tasks this worker will not start now go back to the queue (on failure their leases return them). */
  private async sendBack(tasks: readonly ReadyTask[]): Promise<void> {
    try {
      const back = await this.releaseUnstarted(tasks, "not started");
      this.host.returned(back.map((t) => t.row), "not claimable here any more: worker draining or type paused");
    } catch (error) {
      this.logger.error({ err: error }, "returning claimed tasks to the queue failed; their leases will");
    }
  }

  private async run(): Promise<void> {
    this.pumping = true;
    let idle = false;
    try {
      for (;;) {
        // Start what is ready, and give runs that end at once one turn to do so: their ends go in
        // this round trip instead of the next. Longer runs go on while the round trip is out.
        if (this.drain() > 0) await new Promise((resolve) => setImmediate(resolve));
        const trip = this.send();
        if (!trip) break;
        const { finished, claimed, startsAt } = await trip.reply;
        if (claimed.length > 0) await this.take(claimed, startsAt);
        const byId = new Map(finished.map((row) => [row.id, row]));
        for (const e of trip.ending) e.resolve(byId.get(e.item.id));
        // Nothing claimable: look when a delayed task (a retry) is due. A partial claim needs no
        // look: the runs it started bring the next pass, and local retries arm their own wake-up.
        if (trip.want > 0 && claimed.length === 0) idle = true;
        const more = (trip.want > 0 && claimed.length === trip.want) || this.again || this.pendingFinishes.length > 0;
        // One turn first: the ended runs' "completed" events go out before the new runs' "started".
        if (claimed.length > 0) await new Promise((resolve) => setImmediate(resolve));
        if (!more) break;
      }
      this.drain();
      if (idle && this.host.state() === "running") await this.armDelayedWakeup();
    } catch (error) {
      this.logger.error({ err: error }, "claiming tasks failed; trying again shortly");
    } finally {
      this.pumping = false;
      // Ends or wake-ups that arrived after the loop's last look (or while it failed) are not left waiting.
      if (this.again || this.pendingFinishes.length > 0) this.schedule();
    }
  }

  /** Sends the next round trip: the ends waiting, and a claim for the room left; undefined when there is neither. */
  private send(): RoundTrip | undefined {
    this.again = false;
    const ending = this.pendingFinishes.splice(0);
    const types = this.host.types(); // none while the queue is paused for every type this worker has
    const want = this.host.state() === "running" && types.length > 0 ? this.settings.maxConcurrent + this.prefetch() - this.host.executingCount() - this.ready.length : 0;
    if (want <= 0 && ending.length === 0) return undefined;
    const limits = want > 0 ? this.claimLimits(want, types) : undefined;
    return { ending, want, reply: this.outputLog.flushThrough((events) => this.finishAndClaim(ending, limits, events)) };
  }

  /**
   * Claimed tasks wait for slots; claimed while a stop began, they go back to the queue instead —
   * and so do those of a type this worker stopped claiming while the claim was out (a drain or a
   * pause that landed meanwhile: the claim was sent before it, and a drained worker starts nothing).
   */
  private async take(claimed: ClaimedRow[], startsAt: ReadonlyMap<string, string> | undefined): Promise<void> {
    const claimedAt = Date.now();
    const tasks = claimed.map((row): ReadyTask => {
      const startAt = startsAt?.get(row.type);
      return startAt === undefined ? { row, claimedAt } : { row, claimedAt, startAt };
    });
    if (this.host.state() === "running") {
      const refused: ReadyTask[] = [];
      for (const task of tasks) (this.host.claims(task.row.type) ? this.ready : refused).push(task);
      if (refused.length > 0) await this.sendBack(refused);
      return;
    }
    // Announced like the ready tasks stop() returns: a stop that came while this claim was out
    // (its rows already committed, the reply not yet here) must still say they are queued again.
    try {
      const back = await this.releaseUnstarted(tasks, "shutdown");
      this.host.returned(back.map((t) => t.row), "shutdown, not started");
    } catch (error) {
      this.logger.error({ err: error }, "returning claimed tasks to the queue failed; their leases will");
    }
  }

  private claimLimits(count: number, types: string[]): ClaimLimits {
    return {
      workerId: this.settings.workerId,
      count,
      leaseMs: this.settings.leaseMs,
      maxPerDocument: this.settings.maxPerDocument,
      maxPerDrive: this.settings.maxPerDrive,
      typeSlots: this.typeSlots(),
      types,
    };
  }

  /** Room left per capped type: its cap less its runs executing and its tasks ready. */
  private typeSlots(): Record<string, number> {
    const slots: Record<string, number> = {};
    for (const [type, cap] of Object.entries(this.settings.typeConcurrency)) {
      let used = 0;
      for (const task of this.host.executingTasks()) if (task.type === type) used++;
      for (const r of this.ready) if (r.row.type === type) used++;
      slots[type] = Math.max(0, cap - used);
    }
    return slots;
  }

  /**
   * One round trip's work, with the starts of rate-limited types reserved before the claim and the
   * unused ones given back after it (two more statements, only while a limited type is claimed).
   */
  private async finishAndClaim(ending: PendingFinish[], limits: ClaimLimits | undefined, events: NewTaskEvent[]): Promise<TripReply> {
    const reservation = limits && this.rateLimits ? await this.rateLimits.reserve(limits) : undefined;
    if (limits) this.rateFreeAt = reservation?.nextFreeAt;
    if (this.rateFreeAt !== undefined) this.wakeAt(this.rateFreeAt);
    let claimed: ClaimedRow[] = [];
    try {
      const reply = await this.recordAndClaim(ending, limits, events);
      claimed = reply.claimed;
      if (!reservation || claimed.length === 0) return reply;
      return { ...reply, startsAt: new Map([...reservation.granted].map(([type, { at }]) => [type, at])) };
    } finally {
      if (reservation) await this.rateLimits?.settle(reservation, claimed);
    }
  }

  /**
   * A failed claim must not lose the ends that came with it: they are recorded again without a
   * claim, and a failed recording is tried again a few times (a deadlock's victim, a connection
   * reset) before the ends are rejected — a rejected end is left to its lease, and the task runs
   * again when the lease runs out. The manager logs a rejection.
   */
  private async recordAndClaim(ending: PendingFinish[], limits: ClaimLimits | undefined, events: NewTaskEvent[]): Promise<{ finished: FinishedRow[]; claimed: ClaimedRow[] }> {
    const items = ending.map((e) => e.item);
    try {
      return await this.store.finishAndClaim(this.settings.workerId, items, limits, events);
    } catch (error) {
      // Nothing to record: the claim is tried again at the next pass.
      if (items.length === 0 && events.length === 0) throw error;
      this.logger.error({ err: error }, limits ? "claiming tasks failed; recording the finished runs alone" : "recording the finished runs failed; trying again");
      return { finished: await this.recordAlone(ending, events), claimed: [] };
    }
  }

  private async recordAlone(ending: PendingFinish[], events: NewTaskEvent[]): Promise<FinishedRow[]> {
    let failure: unknown;
    for (const delay of RECORD_RETRY_DELAYS_MS) {
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      try {
        return (await this.store.finishAndClaim(this.settings.workerId, ending.map((e) => e.item), undefined, events)).finished;
      } catch (error) {
        failure = error;
      }
    }
    for (const e of ending) e.reject(failure);
    throw failure;
  }

  /** A task of this worker's waits in the queue until `at` (a retry): pass again then. */
  wakeAt(at: number): void {
    if (this.delayedTimer && this.delayedAt <= at) return;
    this.armTimer(at);
  }

  /** Retries wait in the queue with a future run_at, rate-limited tasks for room: wake up when the next one is due. */
  private async armDelayedWakeup(): Promise<void> {
    const stored = (await this.store.nextRunAt())?.getTime();
    // A rate-limited type's tasks wait for their window, not a run_at: its room counts too.
    const next = Math.min(stored ?? Infinity, this.rateFreeAt ?? Infinity);
    if (this.delayedTimer) clearTimeout(this.delayedTimer);
    this.delayedTimer = undefined;
    if (!Number.isFinite(next) || this.host.state() !== "running") return;
    this.armTimer(next);
  }

  private armTimer(at: number): void {
    const delay = Math.max(0, at - Date.now()) + 5;
    if (delay > this.settings.pollIntervalMs) return; // the poll will come sooner
    if (this.delayedTimer) clearTimeout(this.delayedTimer);
    this.delayedAt = at;
    this.delayedTimer = setTimeout(() => {
      this.delayedTimer = undefined;
      this.schedule();
    }, delay);
    this.delayedTimer.unref();
  }
}
