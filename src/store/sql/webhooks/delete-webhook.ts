import type { Queryable } from "../../db.js";

/** Removes a webhook and its deliveries, sent or not; false when there was none. */
export async function deleteWebhook(db: Queryable, id: string): Promise<boolean> {
  const { affectedRows } = await db.query("DELETE FROM ph_webhooks WHERE id = $1", [id]);
  return affectedRows > 0;
}
