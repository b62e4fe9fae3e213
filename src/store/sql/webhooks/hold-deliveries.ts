import type { Queryable } from "../../db.js";

/**
 * A receiver asked to slow down (429, 503): every pending delivery of the webhook that no worker is
 * sending now waits until `until` too, instead of each finding out with an attempt of its own
 * (which counts towards TASK_WEBHOOK_MAX_ATTEMPTS: a burst of them could die of the 429s alone).
 * Returns how many were held.
 */
export async function holdDeliveries(db: Queryable, webhookId: string, until: Date): Promise<number> {
  const { affectedRows } = await db.query(
    `UPDATE ph_webhook_deliveries SET next_attempt_at = $2, updated_at = now()
     WHERE webhook_id = $1 AND status = 'pending' AND next_attempt_at < $2 AND (lease_expires_at IS NULL OR lease_expires_at < now())`,
    [webhookId, until.toISOString()],
  );
  return affectedRows;
}
