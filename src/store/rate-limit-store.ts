/**
 * Rate limits per task type, beside the tasks: one interface over sql/rate-limits/. A change is
 * announced on CHANNELS.rateLimits, so every worker sharing the database applies it at once.
 */
import { CHANNELS, type Db } from "./db.js";
import { deleteRateLimits } from "./sql/rate-limits/delete-rate-limits.js";
import { listRateLimits } from "./sql/rate-limits/list-rate-limits.js";
import type { RateLimitRow, StartsGrant } from "./sql/rate-limits/rate-limit-row.js";
import { reserveStarts } from "./sql/rate-limits/reserve-starts.js";
import { returnStarts } from "./sql/rate-limits/return-starts.js";
import { upsertRateLimit } from "./sql/rate-limits/upsert-rate-limit.js";

export class RateLimitStore {
  constructor(readonly db: Db) {}

  list(): Promise<RateLimitRow[]> {
    return listRateLimits(this.db);
  }

  async set(type: string, maxStarts: number, perMs: number, reason: string): Promise<void> {
    await upsertRateLimit(this.db, type, maxStarts, perMs, reason);
    await this.db.notify(CHANNELS.rateLimits, "");
    // A raised limit may let waiting tasks start now.
    await this.db.notify(CHANNELS.wakeup, "");
  }

  /** Undefined: every limit. Returns the types lifted. */
  async remove(types?: readonly string[]): Promise<string[]> {
    const removed = await deleteRateLimits(this.db, types);
    await this.db.notify(CHANNELS.rateLimits, "");
    if (removed.length > 0) await this.db.notify(CHANNELS.wakeup, "");
    return removed;
  }

  reserve(wanted: ReadonlyMap<string, number>): Promise<StartsGrant[]> {
    return reserveStarts(this.db, wanted);
  }

  giveBack(unused: readonly { type: string; at: string; count: number }[]): Promise<void> {
    return returnStarts(this.db, unused);
  }
}
