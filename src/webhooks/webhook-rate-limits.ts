/**
 * The sender's side of the outbound webhooks' rate limits (ph_rate_limits, scope 'webhook', key:
 * the webhook's id): before each claim of deliveries, starts are reserved for every rate-limited
 * webhook, the claim takes at most that many of each, and what it did not use is given back — the
 * same exact sliding window as the task types' limits (migration 018), shared by every worker.
 */
import type { RateLimitStore } from "../store/rate-limit-store.js";
import type { UnusedStarts } from "../store/sql/rate-limits/return-starts.js";
import type { DueDelivery } from "../store/sql/webhooks/webhook-row.js";

/** Starts reserved for one claim of deliveries. */
export interface DeliveryReservation {
  /** Per limited webhook id: deliveries the claim may take. */
  caps: Map<string, number>;
  /** The reservations' entries, to give back what goes unused. */
  entries: Map<string, string>;
  /** Webhooks whose window is full now: their due deliveries wait. */
  full: string[];
  /** When the first full window has room again (ms since the epoch). */
  nextFreeAt: number | undefined;
}

export class WebhookRateLimits {
  constructor(private readonly store: RateLimitStore) {}

  /** Reserves up to `want` starts for each rate-limited webhook; undefined when none is limited. */
  async reserve(want: number): Promise<DeliveryReservation | undefined> {
    const limits = await this.store.list();
    if (limits.length === 0) return undefined;
    const grants = await this.store.reserve(new Map(limits.map((limit) => [limit.key, want])));
    const reservation: DeliveryReservation = { caps: new Map(), entries: new Map(), full: [], nextFreeAt: undefined };
    for (const grant of grants) {
      reservation.caps.set(grant.key, grant.granted);
      reservation.entries.set(grant.key, grant.at);
      if (grant.granted === 0) reservation.full.push(grant.key);
      if (grant.next_free_at) reservation.nextFreeAt = Math.min(reservation.nextFreeAt ?? Infinity, grant.next_free_at.getTime());
    }
    return reservation;
  }

  /** Gives back the starts the claim (`claimed`) did not use. */
  async settle(reservation: DeliveryReservation, claimed: readonly DueDelivery[]): Promise<void> {
    const taken = new Map<string, number>();
    for (const delivery of claimed) taken.set(delivery.webhook_id, (taken.get(delivery.webhook_id) ?? 0) + 1);
    const unused: UnusedStarts[] = [];
    for (const [key, cap] of reservation.caps) {
      const left = cap - (taken.get(key) ?? 0);
      const at = reservation.entries.get(key);
      if (left > 0 && at) unused.push({ key, at, count: left });
    }
    if (unused.length > 0) await this.store.giveBack(unused);
  }
}
