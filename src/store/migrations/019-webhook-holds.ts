/**
 * A receiver that answers 429 or 503 ("slow down", with or without Retry-After) holds its whole
 * webhook until that retry: `held_until` on the webhook, which the claim of deliveries checks. On
 * the webhook rather than on its deliveries, so deliveries made during the hold (a task that ends
 * meanwhile, a ping) wait too instead of each spending an attempt on the same refusal.
 * `held_reason` says why ("HTTP 429"). Lifted by the time passing, by a change of the URL (another
 * receiver), or on request (PATCH heldUntil: null, `ph-tasks webhook lift`).
 */
export const name = "webhook-holds";

export const statements = [
  "ALTER TABLE ph_webhooks ADD COLUMN held_until timestamptz",
  "ALTER TABLE ph_webhooks ADD COLUMN held_reason text",
];
