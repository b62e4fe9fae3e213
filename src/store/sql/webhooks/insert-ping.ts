import type { Queryable } from "../../db.js";
import type { DeliveryRow } from "./webhook-row.js";

/** A "ping" delivery of a webhook, due now: to check the receiver before any task ends. */
export async function insertPing(db: Queryable, webhookId: string): Promise<DeliveryRow> {
  const { rows } = await db.query<DeliveryRow>(
    "INSERT INTO ph_webhook_deliveries (id, webhook_id, task_id, event, payload) VALUES (gen_random_uuid()::text, $1, NULL, 'ping', '{}'::jsonb) RETURNING *",
    [webhookId],
  );
  const row = rows[0];
  if (!row) throw new Error("inserting a ping returned no row");
  return row;
}
