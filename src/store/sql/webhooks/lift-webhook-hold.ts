import type { Queryable } from "../../db.js";
import type { WebhookRow } from "./webhook-row.js";

/**
 * Ends a webhook's hold at once (on request, or because it now points at another receiver): its
 * pending deliveries are due now — also the one whose 429 set the hold, whose retry the hold's end
 * had been (a retry set for later than the hold keeps its time). Undefined when the webhook is gone.
 */
export async function liftWebhookHold(db: Queryable, webhookId: string): Promise<WebhookRow | undefined> {
  const { rows } = await db.query<WebhookRow>(
    `WITH held AS (SELECT id, held_until FROM ph_webhooks WHERE id = $1 AND held_until IS NOT NULL),
     due_now AS (
       UPDATE ph_webhook_deliveries d SET next_attempt_at = now(), updated_at = now() FROM held
       WHERE d.webhook_id = held.id AND d.status = 'pending' AND d.next_attempt_at > now() AND d.next_attempt_at <= held.held_until
     )
     UPDATE ph_webhooks SET held_until = NULL, held_reason = NULL WHERE id = $1 RETURNING *`,
    [webhookId],
  );
  return rows[0];
}
