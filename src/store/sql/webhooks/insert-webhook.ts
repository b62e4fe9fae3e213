import type { Queryable } from "../../db.js";
import type { NewWebhookFields, WebhookRow } from "./webhook-row.js";

/** Inserts a webhook; undefined when its name is taken. */
export async function insertWebhook(db: Queryable, id: string, fields: NewWebhookFields): Promise<WebhookRow | undefined> {
  const { rows } = await db.query<WebhookRow>(
    `INSERT INTO ph_webhooks (id, name, url, secret, events, task_type, drive_id, enabled) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (name) DO NOTHING RETURNING *`,
    [id, fields.name, fields.url, fields.secret, fields.events, fields.task_type, fields.drive_id, fields.enabled],
  );
  return rows[0];
}
