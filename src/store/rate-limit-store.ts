/**
 * Rate limits of one scope — task types, or outbound webhooks — beside the tasks: one interface over
 * sql/rate-limits/. A change is announced on CHANNELS.rateLimits, so every worker sharing the
 * database applies it at once.
 */
import { CHANNELS, type Db } from "./db.js";
import { deleteRateLimits } from "./sql/rate-limits/delete-rate-limits.js";
import { listRateLimits } from "./sql/rate-limits/list-rate-limits.js";
import type { RateLimitRow, RateScope, StartsGrant } from "./sql/rate-limits/rate-limit-row.js";
import { reserveStarts } from "./sql/rate-limits/reserve-starts.js";
import { returnStarts, type UnusedStarts } from "./sql/rate-limits/return-starts.js";
import { upsertRateLimit } from "./sql/rate-limits/upsert-rate-limit.js";

/** Starts granted per key by one reservation: how many, and the reservation's entry in the key's window. */
export type Granted = Map<string, { count: number; at: string }>;

/** A reservation's grants, by key, and when the first full window has room again (ms since the epoch). */
export function readGrants(grants: readonly StartsGrant[]): { granted: Granted; nextFreeAt: number | undefined } {
  const granted: Granted = new Map();
  let nextFreeAt: number | undefined;
  for (const grant of grants) {
    granted.set(grant.key, { count: grant.granted, at: grant.at });
    if (grant.next_free_at) nextFreeAt = Math.min(nextFreeAt ?? Infinity, grant.next_free_at.getTime());
  }
  return { granted, nextFreeAt };
}

/** What of `granted` the claim did not take (`taken`: the keys of what it claimed, one per claim). */
export function unusedStarts(granted: Granted, taken: readonly string[]): UnusedStarts[] {
  const used = new Map<string, number>();
  for (const key of taken) used.set(key, (used.get(key) ?? 0) + 1);
  const unused: UnusedStarts[] = [];
  for (const [key, { count, at }] of granted) {
    const left = count - (used.get(key) ?? 0);
    if (left > 0) unused.push({ key, at, count: left });
  }
  return unused;
}

export class RateLimitStore {
  constructor(
    readonly db: Db,
    readonly scope: RateScope = "type",
  ) {}

  list(keys?: readonly string[]): Promise<RateLimitRow[]> {
    return listRateLimits(this.db, this.scope, keys);
  }

  async set(key: string, maxStarts: number, perMs: number, reason: string): Promise<void> {
    await upsertRateLimit(this.db, this.scope, key, maxStarts, perMs, reason);
    await this.db.notify(CHANNELS.rateLimits, this.scope);
    // A raised limit may let waiting work start now.
    await this.db.notify(CHANNELS.wakeup, "");
  }

  /** Undefined: every limit of the scope. Returns the keys lifted. */
  async remove(keys?: readonly string[]): Promise<string[]> {
    const removed = await deleteRateLimits(this.db, this.scope, keys);
    await this.db.notify(CHANNELS.rateLimits, this.scope);
    if (removed.length > 0) await this.db.notify(CHANNELS.wakeup, "");
    return removed;
  }

  reserve(wanted: ReadonlyMap<string, number>): Promise<StartsGrant[]> {
    return reserveStarts(this.db, this.scope, wanted);
  }

  giveBack(unused: readonly UnusedStarts[]): Promise<void> {
    return returnStarts(this.db, this.scope, unused);
  }
}
