/**
 * HMAC-SHA256 body signatures, both ways: inbound hooks check a sender's, outbound webhooks sign
 * their own. "X-Signature-256: sha256=<hex>", the form GitHub uses.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { z } from "zod";

export const SecretSchema = z.string().min(16, "must be at least 16 characters").max(200);

/** A new signing secret: 192 random bits. */
export const newSecret = (): string => randomBytes(24).toString("base64url");

export function signBody(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** Constant-time comparison of a given signature with the body's. */
export function signatureMatches(secret: string, body: Buffer, given: string | undefined): boolean {
  if (!given) return false;
  const expected = Buffer.from(signBody(secret, body));
  const actual = Buffer.from(given.trim());
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
