/**
 * Outbound webhooks at the HTTP boundary: zod schemas for creating and changing one, and the JSON
 * of a webhook (the secret only when it was just made) and of its deliveries.
 */
import { z } from "zod";
import { limitWindowToJson, RateInputSchema } from "../queue/rate-limit-service.js";
import type { RateLimitRow } from "../store/sql/rate-limits/rate-limit-row.js";
import { GraceSchema, previousSecretUntil } from "../hooks/secret-rotation.js";
import { SecretSchema } from "../hooks/signing.js";
import { ResourceNameSchema } from "../schedules/schedule-schema.js";
import { deliverySubject, DELIVERY_STATUSES, END_EVENTS, WEBHOOK_EVENTS, type DeliveryCounts, type DeliveryRow, type WebhookRow } from "../store/sql/webhooks/webhook-row.js";

const WebhookUrlSchema = z.string().trim().max(2000).pipe(z.url({ protocol: /^https?$/, error: "must be an http or https URL" }));
const EventsSchema = z
  .array(z.enum(WEBHOOK_EVENTS, { error: `must be one of ${WEBHOOK_EVENTS.join(", ")}` }))
  .min(1, "name at least one event")
  .transform((events) => [...new Set(events)]);
const FilterSchema = z.string().min(1).max(200).nullable();

export const WebhookCreateSchema = z.strictObject({
  name: ResourceNameSchema,
  /** Where each delivery is POSTed. */
  url: WebhookUrlSchema,
  /** Which task events are sent; a task's end (completed, failed, cancelled) by default. */
  events: EventsSchema.default([...END_EVENTS]),
  /** Only tasks of this type. */
  taskType: FilterSchema.default(null),
  /** Only tasks of this drive. */
  driveId: FilterSchema.default(null),
  /** HMAC-SHA256 key each body is signed with; made up when absent. */
  secret: SecretSchema.optional(),
  enabled: z.boolean().default(true),
  /** At most `max` deliveries (attempts) in any window of `per`, across every worker; null: no limit. */
  rateLimit: RateInputSchema.nullable().default(null),
});

export const WebhookPatchSchema = z
  .strictObject({
    name: ResourceNameSchema,
    url: WebhookUrlSchema,
    events: EventsSchema,
    taskType: FilterSchema,
    driveId: FilterSchema,
    enabled: z.boolean(),
    rateLimit: RateInputSchema.nullable(),
    /** null: lift a receiver's hold (its 429 or 503) at once. A hold is only ever set by the receiver. */
    heldUntil: z.null({ error: "only null is accepted: it lifts the hold a receiver's 429 or 503 set" }),
    /** true: a new secret is made (and shown once). */
    rotateSecret: z.boolean(),
    /** With rotateSecret: deliveries are signed with the secret being replaced too, this long (ms). */
    graceMs: GraceSchema,
  })
  .partial();

export const DeliveryQuerySchema = z.strictObject({
  status: z.enum(DELIVERY_STATUSES, { error: `must be one of ${DELIVERY_STATUSES.join(", ")}` }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

const iso = (date: Date | null) => date?.toISOString() ?? null;

export function webhookToJson(row: WebhookRow, counts: DeliveryCounts | undefined, options: { withSecret?: boolean; rateLimit?: RateLimitRow | undefined } = {}) {
  const limit = options.rateLimit;
  return {
    id: row.id,
    name: row.name,
    url: row.url,
    events: row.events,
    taskType: row.task_type,
    driveId: row.drive_id,
    enabled: row.enabled,
    deliveries: counts ?? { pending: 0, delivered: 0, dead: 0 },
    rateLimit: limitWindowToJson(limit),
    /** Its receiver said 429 or 503: nothing is sent to it before `until`. */
    held: row.held_until && row.held_until.getTime() > Date.now() ? { until: row.held_until.toISOString(), reason: row.held_reason ?? "" } : null,
    /** After `rotate` with a grace period: deliveries are signed with the previous secret too until then. */
    previousSecretUntil: previousSecretUntil(row),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    ...(options.withSecret ? { secret: row.secret } : {}),
  };
}

export function deliveryToJson(row: DeliveryRow) {
  return {
    id: row.id,
    ...deliverySubject(row),
    event: row.event,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.status === "pending" ? row.next_attempt_at.toISOString() : null,
    lastStatus: row.last_status,
    lastError: row.last_error,
    createdAt: row.created_at.toISOString(),
    deliveredAt: iso(row.delivered_at),
  };
}
