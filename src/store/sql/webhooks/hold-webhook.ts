import type { Queryable } from "../../db.js";

/**
 * A receiver asked to slow down (429, 503): no delivery of the webhook — pending now or made
 * meanwhile — is claimed before `until` (see migration 019), instead of each finding out with an
 * attempt of its own (which counts towards TASK_WEBHOOK_MAX_ATTEMPTS: a burst of them could die of
 * the 429s alone). A later hold never shortens an earlier one. False when the webhook is gone.
 */
export async function holdWebhook(db: Queryable, webhookId: string, until: Date, reason: string): Promise<boolean> {
  const { affectedRows } = await db.query(
    `UPDATE ph_webhooks SET held_until = greatest(held_until, $2), held_reason = CASE WHEN held_until > $2 THEN held_reason ELSE $3 END
     WHERE id = $1`,
    [webhookId, until.toISOString(), reason],
  );
  return affectedRows > 0;
}
