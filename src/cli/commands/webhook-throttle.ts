/**
 * What holds a webhook's deliveries back — its rate limit, and a hold after its receiver answered
 * 429 or 503 — and an inbound hook's rate limit, as `webhook show` / `hook show` print them and as
 * `queue status` gathers them, beside what holds tasks back.
 */
import { z } from "zod";
import { describeWindow } from "./rates.js";

/** The fields of an API webhook that say it. */
export const WebhookThrottleFields = {
  rateLimit: z.object({ max: z.number(), perMs: z.number(), used: z.number(), nextFreeAt: z.string().nullable() }).nullable().optional(),
  held: z.object({ until: z.string(), reason: z.string() }).nullable().optional(),
};

const ThrottledSchema = z.looseObject({ name: z.string(), ...WebhookThrottleFields });
type Throttled = z.infer<typeof ThrottledSchema>;
export const ThrottledWebhooksSchema = z.object({ webhooks: z.array(ThrottledSchema) });
export const ThrottledHooksSchema = z.object({ hooks: z.array(ThrottledSchema) });

/** One line each for the rate limit and the hold (none when neither applies). */
export function throttleLines(webhook: Throttled): string[] {
  const { rateLimit, held } = webhook;
  return [
    ...(rateLimit ? [`at most ${rateLimit.max}/${describeWindow(rateLimit.perMs)} (${rateLimit.used} in the current window${rateLimit.nextFreeAt ? `, full until ${rateLimit.nextFreeAt}` : ""})`] : []),
    ...(held ? [`held until ${held.until}: its receiver answered ${held.reason} (\`webhook lift\` sends at once)`] : []),
  ];
}

/** The webhooks (or hooks) that are limited or held, one line per limit or hold, for `queue status`. */
export function describeThrottles(kind: "webhook" | "hook", items: readonly Throttled[]): string {
  return items.flatMap((w) => throttleLines(w).map((line) => `${kind} ${w.name}  ${line}\n`)).join("");
}
