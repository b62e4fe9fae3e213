/**
 * A signing secret's rotation, for inbound hooks and outbound webhooks alike. Rotated at once, the
 * old secret stops working there and then, and the other side — a sender signing deliveries to a
 * hook, a receiver checking a webhook's — fails until it is given the new one. Rotated with a grace
 * period, the old one stays valid beside the new until then: a hook takes deliveries signed with
 * either, a webhook signs with both (webhook-signature carries two), and the other side can switch
 * at its own pace.
 */
import { z } from "zod";
import { newSecret } from "./signing.js";

/** Longest grace period: a week (a rotation is for a secret that may have leaked). */
export const MAX_GRACE_MS = 7 * 24 * 3_600_000;

/** `graceMs` of a PATCH: how long the secret being replaced stays valid (only with rotateSecret). */
export const GraceSchema = z.number().int().min(0).max(MAX_GRACE_MS, { error: `must be at most ${MAX_GRACE_MS} ms (a week)` });

export interface SecretState {
  secret: string;
  previous_secret: string | null;
  previous_secret_until: Date | null;
}

/** The state after a PATCH: rotated (with the old secret kept for `graceMs`), or as it was. */
export function rotateSecret(existing: SecretState, rotate: boolean | undefined, graceMs: number | undefined, now = Date.now()): SecretState {
  if (!rotate) return { secret: existing.secret, previous_secret: existing.previous_secret, previous_secret_until: existing.previous_secret_until };
  const keep = graceMs !== undefined && graceMs > 0;
  return { secret: newSecret(), previous_secret: keep ? existing.secret : null, previous_secret_until: keep ? new Date(now + graceMs) : null };
}

/** The secrets a signature may be made with now: the current one, and the previous one in its grace period. */
export function validSecrets(state: SecretState, now = Date.now()): string[] {
  const previous = state.previous_secret !== null && state.previous_secret_until !== null && state.previous_secret_until.getTime() > now ? [state.previous_secret] : [];
  return [state.secret, ...previous];
}

/** When the previous secret stops working (ISO), or null when none is valid now. */
export function previousSecretUntil(state: SecretState, now = Date.now()): string | null {
  return validSecrets(state, now).length > 1 ? (state.previous_secret_until?.toISOString() ?? null) : null;
}

/** A PATCH's grace period without a rotation is a mistake worth naming. */
export function graceProblem(patch: { rotateSecret?: boolean | undefined; graceMs?: number | undefined }): { field: string; message: string; value: string } | undefined {
  return patch.graceMs !== undefined && !patch.rotateSecret ? { field: "graceMs", message: "only goes with rotateSecret: true (how long the secret being replaced stays valid)", value: String(patch.graceMs) } : undefined;
}
