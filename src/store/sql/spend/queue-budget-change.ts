import type { Queryable } from "../../db.js";

/**
 * Queues one `budget.changed` delivery, with `payload`, for each enabled webhook that asks: a
 * budget set, changed or removed while the agents run (by the one request that changed it, so
 * once). Returns how many.
 */
export async function queueBudgetChange(db: Queryable, payload: Record<string, unknown>): Promise<number> {
  const { rows } = await db.query(
    `INSERT INTO ph_webhook_deliveries (id, webhook_id, task_id, event, payload)
     SELECT gen_random_uuid()::text, w.id, NULL, 'budget.changed', $1::jsonb FROM ph_webhooks w WHERE w.enabled AND 'budget.changed' = ANY (w.events)
     RETURNING 1`,
    [JSON.stringify(payload)],
  );
  return rows.length;
}
