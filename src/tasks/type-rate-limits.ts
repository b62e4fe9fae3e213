/**
 * A worker's side of the rate limits per task type (rate-limit-store.ts): the limits, read at
 * start, again when a change is announced, and at every heartbeat; and, around each claim, the
 * reservation of starts for the limited types among those it claims.
 *
 * Before a claim, each limited type asks for as many starts as the claim could take of it; the
 * claim's room for the type is then what was granted (0 keeps it out of the claim altogether).
 * Starts granted and not used — fewer of its tasks waiting, or held back by the per-document and
 * per-drive limits — are given back after the claim. A reservation that was not given back (the
 * worker died in between) only lowers what that window allows: never more starts than the limit.
 *
 * A limited type whose grant went unused is not asked for again for QUIET_MS (its tasks are not
 * waiting, or not startable), so a busy worker of other types does not pay two extra round trips
 * per claim for it. New work ends every quiet spell at once: a task enqueued or retried, here or
 * elsewhere (the wake-up notification without a worker id), or a limit changed.
 */
import type { Logger } from "../logger.js";
import type { ClaimLimits } from "../store/interfaces.js";
import { readGrants, unusedStarts, type Granted, type RateLimitStore } from "../store/rate-limit-store.js";
import type { StartsGrant } from "../store/sql/rate-limits/rate-limit-row.js";
import type { UnusedStarts } from "../store/sql/rate-limits/return-starts.js";
import { LatestRead } from "./latest-read.js";
import type { ClaimedRow } from "../store/sql/claim-tasks.js";

export const QUIET_MS = 250;

/** Starts reserved for one claim: per type, and when the first full window has room again. */
export interface StartsReservation {
  granted: Granted;
  nextFreeAt: number | undefined;
  /** When it was asked for (performance.now()): a wake after it means new work the claim may have missed. */
  askedAt: number;
}

export class TypeRateLimits {
  private limited: ReadonlySet<string> = new Set();
  private signature = "";
  private readonly quietUntil = new Map<string, number>();
  /** When each type (or every type: "*") was last woken by new work (performance.now()). */
  private readonly wokenAt = new Map<string, number>();
  private readonly reads = new LatestRead();

  constructor(
    private readonly store: RateLimitStore,
    private readonly logger: Logger,
  ) {}

  /** Reads the limits again; true when they changed. */
  async refresh(): Promise<boolean> {
    const read = this.reads.begin();
    const rows = await this.store.list();
    if (!this.reads.isLatest(read)) return false;
    const signature = rows.map((r) => `${r.key}:${r.max_starts}/${r.per_ms}`).join(",");
    const changed = signature !== this.signature;
    this.signature = signature;
    this.limited = new Set(rows.map((r) => r.key));
    if (changed) this.quietUntil.clear();
    return changed;
  }

  /** The task types limited now. */
  types(): string[] {
    return [...this.limited];
  }

  /** New tasks may wait (of these types; none given: of any): ask for their starts at the next claim. */
  wake(types?: Iterable<string>): void {
    const now = performance.now();
    if (!types) {
      this.quietUntil.clear();
      this.wokenAt.set("*", now);
      return;
    }
    for (const type of types) {
      this.quietUntil.delete(type);
      this.wokenAt.set(type, now);
    }
  }

  /**
   * Caps `limits.typeSlots` of the limited types among `limits.types` to the starts reserved for
   * them now. Undefined when no limited type is claimed (nothing reserved, nothing to give back).
   */
  async reserve(limits: ClaimLimits): Promise<StartsReservation | undefined> {
    if (this.limited.size === 0) return undefined;
    const now = Date.now();
    const wanted = new Map<string, number>();
    for (const type of limits.types) {
      if (!this.limited.has(type)) continue;
      const room = Math.min(limits.count, limits.typeSlots[type] ?? limits.count);
      if ((this.quietUntil.get(type) ?? 0) > now || room <= 0) limits.typeSlots[type] = 0;
      else wanted.set(type, room);
    }
    if (wanted.size === 0) return undefined;
    const askedAt = performance.now();
    let grants: StartsGrant[];
    try {
      grants = await this.store.reserve(wanted);
    } catch (error) {
      // Without a reservation the limited types sit this claim out; the others are claimed as usual.
      this.logger.error({ err: error }, "reserving starts of rate-limited task types failed; not claiming them this time");
      for (const type of wanted.keys()) limits.typeSlots[type] = 0;
      return undefined;
    }
    const reservation = { ...readGrants(grants), askedAt };
    for (const [type, { count }] of reservation.granted) limits.typeSlots[type] = count;
    // A type wanted but not returned has lost its limit since the last refresh: its room stays as it was.
    return reservation;
  }

  /** Gives back one start per task of `tasks` (claimed, then not started), each to its reservation's entry. */
  async giveBack(tasks: readonly { type: string; at: string }[]): Promise<void> {
    if (tasks.length === 0) return;
    const unused = new Map<string, UnusedStarts>();
    for (const { type, at } of tasks) {
      const key = `${type}\u0000${at}`;
      const entry = unused.get(key);
      if (entry) entry.count++;
      else unused.set(key, { key: type, at, count: 1 });
    }
    await this.store.giveBack([...unused.values()]).catch((error: unknown) => {
      this.logger.error({ err: error }, "giving back the starts of claimed tasks that did not start failed; they count until their window passes");
    });
    // Their tasks wait again: the type is worth asking for at the next claim.
    this.wake(tasks.map((t) => t.type));
  }

  /**
   * After the claim (`claimed`: what it took; empty when it failed): gives back the starts not used,
   * and quiets the types that had starts and took none.
   */
  async settle(reservation: StartsReservation, claimed: readonly ClaimedRow[]): Promise<void> {
    const taken = new Set(claimed.map((row) => row.type));
    // Not when new work came while the claim was out: its wake has been spent, and quieting the type
    // now would leave that work to the next poll (seen: two workers both idle for a poll interval).
    const wokenSince = (type: string) => Math.max(this.wokenAt.get(type) ?? 0, this.wokenAt.get("*") ?? 0) >= reservation.askedAt;
    for (const [type, { count }] of reservation.granted) if (count > 0 && !taken.has(type) && !wokenSince(type)) this.quietUntil.set(type, Date.now() + QUIET_MS);
    const unused = unusedStarts(reservation.granted, claimed.map((row) => row.type));
    if (unused.length === 0) return;
    // Not given back, they count against the window until it passes: fewer starts, never more.
    await this.store.giveBack(unused).catch((error: unknown) => {
      this.logger.error({ err: error }, "giving back unused starts of rate-limited task types failed; they count until their window passes");
    });
  }
}
