/**
 * Where the write-back sweep looks from (result-write-back.ts): everything not written yet at
 * start and every few minutes, and between those only the ends since its last look. The look
 * from a time is cheap (its cost follows the ends, not the queue); the whole look catches an end
 * whose transaction committed more than `marginMs` after it began (its finished_at is the
 * transaction's start), which a look from a time could miss.
 */
export const FULL_LOOK_EVERY_MS = 5 * 60_000;
export const LOOK_BACK_MARGIN_MS = 10_000;

export class SweepCursor {
  private since: Date | undefined;
  private lastFullAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly fullEveryMs = FULL_LOOK_EVERY_MS,
    private readonly marginMs = LOOK_BACK_MARGIN_MS,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Where the next look starts; undefined: everything. */
  from(): Date | undefined {
    return this.since === undefined || this.clock() - this.lastFullAt >= this.fullEveryMs ? undefined : this.since;
  }

  /**
   * After a look from `from` whose every find was handled: `found` of at most `limit`, the database's
   * clock `at`. A full page means more to read: the next look starts at the same place.
   */
  looked(from: Date | undefined, found: number, limit: number, at: Date): void {
    if (found >= limit) return;
    if (from === undefined) this.lastFullAt = this.clock();
    this.since = new Date(at.getTime() - this.marginMs);
  }
}
