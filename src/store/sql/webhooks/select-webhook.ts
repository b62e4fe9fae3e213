import type { Queryable } from "../../db.js";
import type { WebhookRow } from "./webhook-row.js";

/** One webhook by id or by name. */
export async function selectWebhook(db: Queryable, idOrName: string): Promise<WebhookRow | undefined> {
  const { rows } = await db.query<WebhookRow>("SELECT * FROM ph_webhooks WHERE id = $1 OR name = $1 LIMIT 1", [idOrName]);
  return rows[0];
}
