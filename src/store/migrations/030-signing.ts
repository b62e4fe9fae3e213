/**
 * Signing, both ways (src/hooks/signing.ts):
 *
 * - An inbound hook may take timestamped signatures only (Standard Webhooks: the delivery's id and
 *   time are signed), so that a captured delivery cannot be sent again as a new one. 'any' (every
 *   hook until now) also takes GitHub's body-only signature.
 * - A rotated secret may stay valid for a while beside the new one (`rotate --grace 1h`): a hook
 *   takes deliveries signed with either until `previous_secret_until`, and a webhook signs with
 *   both meanwhile, so the other side can switch without losing a delivery.
 *
 * - An inbound hook may have a rate limit (ph_rate_limits, scope 'hook', key: its id): signed
 *   deliveries beyond it are answered 429, so a leaked secret cannot flood the queue.
 *
 * Additive: an agent older than this one reads none of these columns — it takes body-only
 * signatures on every hook, only the new secret after a rotation, and no hook's rate limit — so a hook set to
 * 'timestamped' is replay-proof once every agent sharing the store is at this version
 * (`ph-tasks workers` shows each one's schema; `ph-tasks doctor` warns of a live older one). Not `breaksOlderAgents`: a draining agent still
 * answers its hooks, so draining would not close the gap.
 */
export const name = "signing";

export const statements = [
  `ALTER TABLE ph_hooks ADD COLUMN signing text NOT NULL DEFAULT 'any' CHECK (signing IN ('any', 'timestamped'))`,
  "ALTER TABLE ph_hooks ADD COLUMN previous_secret text",
  "ALTER TABLE ph_hooks ADD COLUMN previous_secret_until timestamptz",
  "ALTER TABLE ph_webhooks ADD COLUMN previous_secret text",
  "ALTER TABLE ph_webhooks ADD COLUMN previous_secret_until timestamptz",
  "ALTER TABLE ph_rate_limits DROP CONSTRAINT ph_rate_limits_scope_check",
  "ALTER TABLE ph_rate_limits ADD CONSTRAINT ph_rate_limits_scope_check CHECK (scope IN ('type', 'webhook', 'hook'))",
];
