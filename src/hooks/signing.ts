/**
 * HMAC-SHA256 signatures, both ways: inbound hooks check a sender's, outbound webhooks sign their
 * own. Two schemes:
 *
 * - body only: "X-Signature-256: sha256=<hex HMAC of the raw body>", the form GitHub uses. The key
 *   is the secret's text. Nothing in it changes between deliveries, so a captured delivery can be
 *   sent again (with a new delivery id it makes a new task).
 * - timestamped (Standard Webhooks, https://www.standardwebhooks.com): "webhook-id",
 *   "webhook-timestamp" (Unix seconds) and "webhook-signature: v1,<base64 HMAC of
 *   `<id>.<timestamp>.<body>`>" (several, space-separated, during a key change). The id and the
 *   time are signed, so a replay is either the same delivery (the same id: no second task) or
 *   stale (refused outside TIMESTAMP_TOLERANCE_S). The key is the secret's base64 part when it has
 *   the scheme's "whsec_" prefix (the secrets this agent makes have it), else its text.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { z } from "zod";

export const SecretSchema = z.string().min(16, "must be at least 16 characters").max(200);

/** How far a timestamped delivery's time may be from this machine's clock (the scheme's five minutes). */
export const TIMESTAMP_TOLERANCE_S = 5 * 60;

/** A new signing secret: 192 random bits, in the Standard Webhooks form (also a fine body-scheme key). */
export const newSecret = (): string => `whsec_${randomBytes(24).toString("base64")}`;

export function signBody(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** Constant-time comparison of two signatures' texts. */
function sameText(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Constant-time comparison of a given body signature with the body's. */
export function signatureMatches(secret: string, body: Buffer, given: string | undefined): boolean {
  return given !== undefined && sameText(signBody(secret, body), given.trim());
}

/** The key of the timestamped scheme: a "whsec_" secret's decoded base64, any other secret's text. */
function timestampedKey(secret: string): Buffer {
  return secret.startsWith("whsec_") ? Buffer.from(secret.slice("whsec_".length), "base64") : Buffer.from(secret);
}

/** The "webhook-signature" value of a delivery: "v1,<base64>". */
export function signTimestamped(secret: string, id: string, timestampSeconds: number, body: Buffer | string): string {
  const hmac = createHmac("sha256", timestampedKey(secret)).update(`${id}.${timestampSeconds}.`).update(body);
  return `v1,${hmac.digest("base64")}`;
}

/** The three headers of a timestamped delivery signed now, with each secret (the scheme's way through a rotation). */
export function timestampedHeaders(secrets: readonly string[], id: string, body: string, now = Date.now()): Record<string, string> {
  const timestamp = Math.floor(now / 1000);
  return { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": secrets.map((secret) => signTimestamped(secret, id, timestamp, body)).join(" ") };
}

/** Why a timestamped delivery is refused; undefined when it is good. */
export function timestampedRefusal(secret: string, delivery: { id: string | undefined; timestamp: string | undefined; signature: string; body: Buffer }, now = Date.now()): string | undefined {
  if (!delivery.id) return "a webhook-signature needs a webhook-id header (the delivery's id, which the signature covers)";
  if (delivery.timestamp === undefined || !/^\d{1,12}$/.test(delivery.timestamp)) {
    return `the webhook-timestamp header must be the signing time in Unix seconds; got ${delivery.timestamp === undefined ? "none" : `'${delivery.timestamp.slice(0, 40)}'`}`;
  }
  const timestamp = Number(delivery.timestamp);
  const skew = Math.round(now / 1000 - timestamp);
  if (Math.abs(skew) > TIMESTAMP_TOLERANCE_S) {
    return `the webhook-timestamp ${timestamp} is ${Math.abs(skew)} s ${skew > 0 ? "old" : "in the future"}; at most ${TIMESTAMP_TOLERANCE_S} s either way (a replayed or delayed delivery, or a clock that is off)`;
  }
  const expected = signTimestamped(secret, delivery.id, timestamp, delivery.body);
  const matches = delivery.signature.split(" ").some((given) => given.startsWith("v1,") && sameText(expected, given));
  return matches ? undefined : "no v1 signature in the webhook-signature header matches '<webhook-id>.<webhook-timestamp>.<body>' signed with the hook's secret";
}
