import type { Queryable } from "../../db.js";
import type { DueDelivery } from "./webhook-row.js";

/**
 * Per webhook and task, in order: a delivery (alias `d`) waits while an earlier one of the same task
 * to the same webhook is pending — being sent, or waiting to be tried again — so a receiver gets a
 * task's "started" before its "completed". A dead one no longer holds the later ones back.
 */
export const NO_EARLIER_PENDING = `NOT EXISTS (
         SELECT 1 FROM ph_webhook_deliveries e
         WHERE e.webhook_id = d.webhook_id AND e.task_id = d.task_id AND e.status = 'pending'
           AND (e.created_at, e.id) < (d.created_at, d.id))`;

/**
 * Claims up to `limit` deliveries that are due (and not held back by an earlier one, above), of enabled webhooks, for `workerId` to send, for
 * `leaseMs`, and counts the attempt. SKIP LOCKED: a worker claiming at the same instant takes
 * others or none. A worker that dies mid-send lets the lease lapse; another sends the delivery
 * again, with the same id (at least once: the receiver drops a delivery id it has seen).
 */
export async function claimDueDeliveries(db: Queryable, workerId: string, leaseMs: number, limit: number): Promise<DueDelivery[]> {
  const { rows } = await db.query<DueDelivery>(
    `WITH due AS (
       SELECT d.id FROM ph_webhook_deliveries d JOIN ph_webhooks w ON w.id = d.webhook_id
       WHERE ${CLAIMABLE_DELIVERY}
       ORDER BY d.next_attempt_at, d.id
       LIMIT $3
       FOR UPDATE OF d SKIP LOCKED
     )
     ${TAKE_DELIVERIES}`,
    [workerId, leaseMs, limit],
  );
  return rows;
}

/** A delivery `d` of webhook `w` that a worker may claim now (its webhook enabled and not held: hold-webhook.ts). */
export const CLAIMABLE_DELIVERY = `d.status = 'pending' AND d.next_attempt_at <= now() AND (d.lease_expires_at IS NULL OR d.lease_expires_at < now())
         AND w.enabled AND (w.held_until IS NULL OR w.held_until <= now())
         AND ${NO_EARLIER_PENDING}`;

/** Claims the deliveries of the CTE `due` for worker $1 with a lease of $2 ms, counting the attempt. */
export const TAKE_DELIVERIES = `UPDATE ph_webhook_deliveries d
     SET locked_by = $1, lease_expires_at = now() + make_interval(secs => $2 / 1000.0), attempts = d.attempts + 1, updated_at = now()
     FROM due, ph_webhooks w
     WHERE d.id = due.id AND w.id = d.webhook_id
     RETURNING d.*, w.name AS webhook_name, w.url, w.secret, CASE WHEN w.previous_secret_until > now() THEN w.previous_secret END AS previous_secret`;
