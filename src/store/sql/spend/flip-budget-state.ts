import type { Queryable } from "../../db.js";

/**
 * The webhook events of the daily budget: spent, then room again; past its warning share first
 * (TASK_BUDGET_WARN_AT_PERCENT); and budget.changed — a budget (the daily one, or a drive's) set,
 * changed or removed while the agents run (queue-budget-change.ts).
 */
export const BUDGET_EVENTS = ["budget.spent", "budget.available", "budget.nearly_spent", "budget.changed"] as const;
export type BudgetEvent = (typeof BUDGET_EVENTS)[number];

/**
 * The rest of a budget's flip statement, after its `flipped` CTE (one row when this statement
 * changed the state): one delivery of event `$2` with payload `$3` queued for each enabled webhook
 * that asks for it, and the counts `flipped` and `deliveries`.
 */
export const BUDGET_DELIVERIES_QUEUED = `queued AS (
       INSERT INTO ph_webhook_deliveries (id, webhook_id, task_id, event, payload)
       SELECT gen_random_uuid()::text, w.id, NULL, $2, $3::jsonb FROM ph_webhooks w, flipped WHERE w.enabled AND $2 = ANY (w.events)
       RETURNING 1
     )
     SELECT (SELECT count(*) FROM flipped)::int AS flipped, (SELECT count(*) FROM queued)::int AS deliveries`;

/**
 * Records that the daily budget is spent (or has room again) — only if it was not already so — and
 * in the same statement queues one delivery of the change to each enabled webhook that asks for
 * it. Of several workers seeing the same change, one flips it: `flipped` false for the others.
 */
export async function flipBudgetState(db: Queryable, spent: boolean, payload: Record<string, unknown>): Promise<{ flipped: boolean; deliveries: number }> {
  const event: BudgetEvent = spent ? "budget.spent" : "budget.available";
  const { rows } = await db.query<{ flipped: number; deliveries: number }>(
    `WITH flipped AS (
       UPDATE ph_budget_state SET spent_since = CASE WHEN $1::boolean THEN now() END
        WHERE id = 1 AND (spent_since IS NULL) = $1::boolean
       RETURNING 1
     ), ${BUDGET_DELIVERIES_QUEUED}`,
    [spent, event, JSON.stringify(payload)],
  );
  return { flipped: (rows[0]?.flipped ?? 0) > 0, deliveries: rows[0]?.deliveries ?? 0 };
}
