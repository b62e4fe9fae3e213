/**
 * What holds a webhook's deliveries back — its rate limit, and a hold after its receiver answered
 * 429 or 503 — as `webhook show` prints it and as `queue status` gathers it, beside what holds
 * tasks back.
 */
import { z } from "zod";
import { describeWindow } from "./rates.js";

/** The fields of an API webhook that say it. */
export const WebhookThrottleFields = {
  rateLimit: z.object({ max: z.number(), perMs: z.number(), used: z.number(), nextFreeAt: z.string().nullable() }).nullable().optional(),
  held: z.object({ until: z.string(), reason: z.string() }).nullable().optional(),
};

const ThrottledWebhookSchema = z.looseObject({ name: z.string(), enabled: z.boolean(), ...WebhookThrottleFields });
type ThrottledWebhook = z.infer<typeof ThrottledWebhookSchema>;
export const ThrottledWebhooksSchema = z.object({ webhooks: z.array(ThrottledWebhookSchema) });

/** One line each for the rate limit and the hold (none when neither applies). */
export function throttleLines(webhook: ThrottledWebhook): string[] {
  const { rateLimit, held } = webhook;
  return [
    ...(rateLimit ? [`at most ${rateLimit.max}/${describeWindow(rateLimit.perMs)} (${rateLimit.used} in the current window${rateLimit.nextFreeAt ? `, full until ${rateLimit.nextFreeAt}` : ""})`] : []),
    ...(held ? [`held until ${held.until}: its receiver answered ${held.reason} (\`webhook lift\` sends at once)`] : []),
  ];
}

/** The webhooks that are limited or held, one line per limit or hold, for `queue status`. */
export function describeThrottles(webhooks: readonly ThrottledWebhook[]): string {
  return webhooks.flatMap((w) => throttleLines(w).map((line) => `webhook ${w.name}  ${line}\n`)).join("");
}
