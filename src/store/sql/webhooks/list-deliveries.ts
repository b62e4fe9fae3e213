import type { Queryable } from "../../db.js";
import { NO_EARLIER_PENDING } from "./claim-due-deliveries.js";
import type { DeliveryCounts, DeliveryRow, DeliveryStatus } from "./webhook-row.js";

/** A webhook's deliveries, newest first, optionally of one status. */
export async function listDeliveries(db: Queryable, webhookId: string, options: { status?: DeliveryStatus; limit: number }): Promise<DeliveryRow[]> {
  const { rows } = await db.query<DeliveryRow>(
    `SELECT * FROM ph_webhook_deliveries WHERE webhook_id = $1 AND ($2::text IS NULL OR status = $2)
     ORDER BY created_at DESC, id DESC LIMIT $3`,
    [webhookId, options.status ?? null, options.limit],
  );
  return rows;
}

/** Deliveries per webhook and status: of every webhook, or of the one given. */
export async function countDeliveries(db: Queryable, webhookId?: string): Promise<Map<string, DeliveryCounts>> {
  const { rows } = await db.query<{ webhook_id: string; status: DeliveryStatus; n: number }>(
    "SELECT webhook_id, status, count(*)::int AS n FROM ph_webhook_deliveries WHERE $1::text IS NULL OR webhook_id = $1 GROUP BY webhook_id, status",
    [webhookId ?? null],
  );
  const counts = new Map<string, DeliveryCounts>();
  for (const row of rows) {
    const entry = counts.get(row.webhook_id) ?? { pending: 0, delivered: 0, dead: 0 };
    entry[row.status] = row.n;
    counts.set(row.webhook_id, entry);
  }
  return counts;
}

/**
 * When the soonest pending delivery of an enabled webhook can be claimed (undefined: none): its
 * next attempt, the end of the lease of a worker sending it now, or the end of its webhook's hold. One held back by an earlier
 * delivery of its task is not counted: it comes free when that one is recorded, by the sender
 * that records it. Nor are those of the webhooks in `except` (their rate limit is reached: the
 * sender knows when each has room again).
 */
export async function nextDeliveryDue(db: Queryable, except: readonly string[] = []): Promise<Date | undefined> {
  const { rows } = await db.query<{ at: Date | null }>(
    `SELECT min(greatest(d.next_attempt_at, d.lease_expires_at, w.held_until)) AS at FROM ph_webhook_deliveries d JOIN ph_webhooks w ON w.id = d.webhook_id
     WHERE d.status = 'pending' AND w.enabled AND d.webhook_id <> ALL($1::text[]) AND ${NO_EARLIER_PENDING}`,
    [except],
  );
  return rows[0]?.at ?? undefined;
}
