import type { Queryable } from "../../db.js";
import type { DeliveryRow } from "./webhook-row.js";

/**
 * Sends a delivery again, now, with a fresh count of attempts and the same id (a receiver that
 * had it drops it): for a dead one after the receiver was fixed, or a delivered one to replay.
 * Undefined when the webhook has no such delivery or it is being sent right now.
 */
export async function redeliver(db: Queryable, webhookId: string, deliveryId: string): Promise<DeliveryRow | undefined> {
  const { rows } = await db.query<DeliveryRow>(
    `UPDATE ph_webhook_deliveries
     SET status = 'pending', attempts = 0, next_attempt_at = now(), updated_at = now()
     WHERE id = $2 AND webhook_id = $1 AND (locked_by IS NULL OR lease_expires_at < now())
     RETURNING *`,
    [webhookId, deliveryId],
  );
  return rows[0];
}
