import type { Queryable } from "../../db.js";

/** How an attempt went: delivered, to be tried again at `retryAt`, or given up (dead). */
export interface DeliveryOutcome {
  id: string;
  status: "delivered" | "pending" | "dead";
  /** When to try again (status pending). */
  retryAt?: Date;
  httpStatus: number | null;
  error: string | null;
}

/**
 * Records an attempt's outcome, fenced by the claim: false when the delivery is no longer this
 * worker's (its lease lapsed and another worker took it, or the webhook was removed).
 */
export async function finishDelivery(db: Queryable, workerId: string, outcome: DeliveryOutcome): Promise<boolean> {
  const { affectedRows } = await db.query(
    `UPDATE ph_webhook_deliveries
     SET status = $3, next_attempt_at = coalesce($4::timestamptz, next_attempt_at), last_status = $5, last_error = $6,
         delivered_at = CASE WHEN $3 = 'delivered' THEN now() ELSE delivered_at END,
         locked_by = NULL, lease_expires_at = NULL, updated_at = now()
     WHERE id = $1 AND locked_by = $2 AND status = 'pending'`,
    [outcome.id, workerId, outcome.status, outcome.retryAt?.toISOString() ?? null, outcome.httpStatus, outcome.error],
  );
  return affectedRows > 0;
}
