import type { Queryable } from "../../db.js";

/**
 * Removes deliveries that ended (delivered or dead) more than `olderThanMs` ago, and any whose
 * webhook is gone (a task that ended while its webhook was being removed); returns how many.
 */
export async function deleteOldDeliveries(db: Queryable, olderThanMs: number): Promise<number> {
  const { affectedRows } = await db.query(
    `DELETE FROM ph_webhook_deliveries d
     WHERE (d.status <> 'pending' AND d.updated_at < now() - make_interval(secs => $1 / 1000.0))
        OR NOT EXISTS (SELECT 1 FROM ph_webhooks w WHERE w.id = d.webhook_id)`,
    [olderThanMs],
  );
  return affectedRows;
}
