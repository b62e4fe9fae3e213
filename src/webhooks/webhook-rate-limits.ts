/**
 * The sender's side of the outbound webhooks' rate limits (ph_rate_limits, scope 'webhook', key:
 * the webhook's id): before each claim of deliveries, starts are reserved for every rate-limited
 * webhook, the claim takes at most that many of each, and what it did not use is given back — the
 * same exact sliding window as the task types' limits (migration 018), shared by every worker.
 */
import { readGrants, unusedStarts, type Granted, type RateLimitStore } from "../store/rate-limit-store.js";
import type { DueDelivery } from "../store/sql/webhooks/webhook-row.js";

/** Starts reserved for one claim of deliveries. */
export interface DeliveryReservation {
  granted: Granted;
  /** Per limited webhook id: deliveries the claim may take. */
  caps: Map<string, number>;
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
    const { granted, nextFreeAt } = readGrants(await this.store.reserve(new Map(limits.map((limit) => [limit.key, want]))));
    const caps = new Map([...granted].map(([key, { count }]) => [key, count]));
    return { granted, caps, full: [...caps].filter(([, count]) => count === 0).map(([key]) => key), nextFreeAt };
  }

  /** Gives back the starts the claim (`claimed`) did not use. */
  async settle(reservation: DeliveryReservation, claimed: readonly DueDelivery[]): Promise<void> {
    const unused = unusedStarts(reservation.granted, claimed.map((delivery) => delivery.webhook_id));
    if (unused.length > 0) await this.store.giveBack(unused);
  }
}
