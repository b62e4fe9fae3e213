import type { Queryable } from "../../db.js";

/**
 * Removes a webhook and its deliveries, sent or not; false when there was none. (No foreign key
 * does it: its check on every delivery the trigger writes cost a fifth of the finish path.)
 */
export async function deleteWebhook(db: Queryable, id: string): Promise<boolean> {
  const { rows } = await db.query<{ n: number }>(
    `WITH gone AS (DELETE FROM ph_webhooks WHERE id = $1 RETURNING id),
          deliveries AS (DELETE FROM ph_webhook_deliveries WHERE webhook_id IN (SELECT id FROM gone))
     SELECT count(*)::int AS n FROM gone`,
    [id],
  );
  return (rows[0]?.n ?? 0) > 0;
}
