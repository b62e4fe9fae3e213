/**
 * An inbound hook may take timestamped signatures only (Standard Webhooks: the delivery's id and
 * time are signed), so that a captured delivery cannot be sent again as a new one. 'any' (every
 * hook until now) also takes GitHub's body-only signature.
 *
 * Additive: an agent older than this one reads no `signing` and takes body-only signatures on every
 * hook — so a hook set to 'timestamped' is replay-proof once every agent sharing the store is at
 * this version (`ph-tasks workers` shows each one's schema). Not `breaksOlderAgents`: a draining
 * agent still answers its hooks, so draining would not close the gap.
 */
export const name = "hook-signing";

export const statements = [`ALTER TABLE ph_hooks ADD COLUMN signing text NOT NULL DEFAULT 'any' CHECK (signing IN ('any', 'timestamped'))`];
