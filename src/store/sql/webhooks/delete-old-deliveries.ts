import type { Queryable } from "../../db.js";

/** Removes deliveries that ended (delivered or dead) more than `olderThanMs` ago; returns how many. */
export async function deleteOldDeliveries(db: Queryable, olderThanMs: number): Promise<number> {
  const { affectedRows } = await db.query(
    "DELETE FROM ph_webhook_deliveries WHERE status <> 'pending' AND updated_at < now() - make_interval(secs => $1 / 1000.0)",
    [olderThanMs],
  );
  return affectedRows;
}
