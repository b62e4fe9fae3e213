import type { Queryable } from "../../db.js";
import type { WebhookFields, WebhookRow } from "./webhook-row.js";

/** Saves a webhook's fields; undefined when it is gone; throws on a name another webhook has. */
export async function updateWebhook(db: Queryable, id: string, fields: WebhookFields): Promise<WebhookRow | undefined> {
  const { rows } = await db.query<WebhookRow>(
    `UPDATE ph_webhooks SET name = $2, url = $3, secret = $4, events = $5, task_type = $6, drive_id = $7, enabled = $8, previous_secret = $9, previous_secret_until = $10, updated_at = now()
     WHERE id = $1 RETURNING *`,
    [id, fields.name, fields.url, fields.secret, fields.events, fields.task_type, fields.drive_id, fields.enabled, fields.previous_secret, fields.previous_secret_until],
  );
  return rows[0];
}
