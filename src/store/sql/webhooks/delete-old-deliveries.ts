import type { Queryable } from "../../db.js";

/**
 * Removes deliveries that ended (delivered or dead) more than `olderThanMs` ago, and pending ones
 * whose webhook is gone (a task that ended while its webhook was being removed: the trigger's
 * delivery committed beside the removal); returns how many. Each part goes through its partial
 * index — the ended ones by when they ended, the pending ones (a few) whole — so the hourly cleanup
 * does not read every delivery kept, which it did while it looked for orphans among all of them.
 */
export async function deleteOldDeliveries(db: Queryable, olderThanMs: number): Promise<number> {
  const { rows } = await db.query<{ removed: number }>(
    `WITH ended AS (
       DELETE FROM ph_webhook_deliveries
       WHERE status <> 'pending' AND updated_at < now() - make_interval(secs => $1 / 1000.0)
       RETURNING 1
     ), orphans AS (
       DELETE FROM ph_webhook_deliveries d
       WHERE d.status = 'pending' AND NOT EXISTS (SELECT 1 FROM ph_webhooks w WHERE w.id = d.webhook_id)
       RETURNING 1
     )
     SELECT (SELECT count(*) FROM ended)::int + (SELECT count(*) FROM orphans)::int AS removed`,
    [olderThanMs],
  );
  return rows[0]?.removed ?? 0;
}
