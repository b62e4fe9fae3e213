import type { Queryable } from "../../db.js";
import type { WebhookRow } from "./webhook-row.js";

/** Every webhook, by name. */
export async function listWebhooks(db: Queryable): Promise<WebhookRow[]> {
  const { rows } = await db.query<WebhookRow>("SELECT * FROM ph_webhooks ORDER BY name");
  return rows;
}
