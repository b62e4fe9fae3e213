import type { Queryable } from "../../db.js";
import { CLAIMABLE_DELIVERY, TAKE_DELIVERIES } from "./claim-due-deliveries.js";
import type { DueDelivery } from "./webhook-row.js";

/**
 * claimDueDeliveries with a cap per webhook: at most `rooms[i]` deliveries of webhook `ids[i]`
 * (the starts its rate limit granted this worker), the oldest due first; webhooks not named are
 * not capped. Ranking every due delivery costs more than the plain claim's index walk, so the
 * sender uses this one only while some webhook has a rate limit.
 */
export async function claimCappedDeliveries(db: Queryable, workerId: string, leaseMs: number, limit: number, caps: ReadonlyMap<string, number>): Promise<DueDelivery[]> {
  const { rows } = await db.query<DueDelivery>(
    `WITH ranked AS (
       SELECT d.id, d.next_attempt_at, c.room, row_number() OVER (PARTITION BY d.webhook_id ORDER BY d.next_attempt_at, d.id) AS n
       FROM ph_webhook_deliveries d JOIN ph_webhooks w ON w.id = d.webhook_id
         LEFT JOIN unnest($4::text[], $5::int[]) AS c(webhook_id, room) ON c.webhook_id = d.webhook_id
       WHERE ${CLAIMABLE_DELIVERY} AND (c.room IS NULL OR c.room > 0)
     ), due AS (
       -- The claimable test again, beside the lock: a row another worker claimed since the ranking
       -- began is re-read under FOR UPDATE, and only conditions at this level are checked again.
       SELECT d.id FROM ph_webhook_deliveries d JOIN ph_webhooks w ON w.id = d.webhook_id JOIN ranked r ON r.id = d.id
       WHERE ${CLAIMABLE_DELIVERY} AND (r.room IS NULL OR r.n <= r.room)
       ORDER BY r.next_attempt_at, r.id
       LIMIT $3
       FOR UPDATE OF d SKIP LOCKED
     )
     ${TAKE_DELIVERIES}`,
    [workerId, leaseMs, limit, [...caps.keys()], [...caps.values()]],
  );
  return rows;
}
