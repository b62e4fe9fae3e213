/**
 * What an operator sets for the whole queue and every worker obeys: pauses (queue-pauses.ts) and
 * rate limits per task type (type-rate-limits.ts). Both are rows in the store, read at start
 * (before any wake-up can ask for a claim), again when a change is announced, and on a timer of
 * their own should an announcement be missed.
 */
import type { Logger } from "../logger.js";
import { CHANNELS, type Db } from "../store/db.js";
import { PauseStore } from "../store/pause-store.js";
import { RateLimitStore } from "../store/rate-limit-store.js";
import { TypeConcurrencyStore } from "../store/type-concurrency-store.js";
import { QueuePauses } from "./queue-pauses.js";
import { TypeRateLimits } from "./type-rate-limits.js";

export class QueueControls {
  readonly pauses: QueuePauses;
  readonly rateLimits: TypeRateLimits;
  /** The rows behind them, for whoever asks about one task (waiting-reason.ts). */
  readonly pauseStore: PauseStore;
  readonly rateLimitStore: RateLimitStore;
  /** The concurrency caps: the claim function reads them itself, so only whoever asks about one task does. */
  readonly concurrencyStore: TypeConcurrencyStore;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
  ) {
    this.pauseStore = new PauseStore(db);
    this.rateLimitStore = new RateLimitStore(db);
    this.concurrencyStore = new TypeConcurrencyStore(db);
    this.pauses = new QueuePauses(this.pauseStore);
    this.rateLimits = new TypeRateLimits(this.rateLimitStore, logger);
  }

  /** Reads pauses and limits; true when either changed (what may be claimed, or how fast). */
  async refresh(): Promise<boolean> {
    const [paused, limited] = await Promise.all([this.pauses.refresh(), this.rateLimits.refresh()]);
    return paused || limited;
  }

  /** Like refresh, for timers and notifications: a failure is logged, and the next timer tries again. */
  async refreshQuietly(): Promise<boolean> {
    try {
      return await this.refresh();
    } catch (error) {
      this.logger.error({ err: error }, "reading the queue's pauses and rate limits failed; trying again at the next heartbeat");
      return false;
    }
  }

  /** Subscribes to the announcements of changes; returns the unsubscribers. */
  async listen(changed: () => void): Promise<(() => Promise<void>)[]> {
    const onChange = () => void this.refreshQuietly().then((yes) => yes && changed());
    return [await this.db.listen(CHANNELS.pauses, onChange), await this.db.listen(CHANNELS.rateLimits, onChange)];
  }
}
