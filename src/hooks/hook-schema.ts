/**
 * Inbound webhooks at the HTTP boundary: zod schemas for creating and changing one, and its JSON
 * (the secret only when it was just made).
 */
import { z } from "zod";
import { limitWindowToJson, RateInputSchema } from "../queue/rate-limit-service.js";
import type { RateLimitRow } from "../store/sql/rate-limits/rate-limit-row.js";
import { ResourceNameSchema } from "../schedules/schedule-schema.js";
import { HOOK_SIGNINGS, type HookRow } from "../store/sql/hooks/hook-row.js";
import { GraceSchema, previousSecretUntil } from "./secret-rotation.js";
import { SecretSchema } from "./signing.js";
import { lastMade } from "../pipelines/pipeline-in-task.js";


export const HookCreateSchema = z.strictObject({
  name: ResourceNameSchema,
  /**
   * The task request each delivery makes; "{{body.<path>}}", "{{headers.<name>}}", "{{query.<name>}}"
   * are filled in. `{ "pipeline": {...} }` makes a pipeline instead (src/pipelines/).
   */
  task: z.record(z.string(), z.json()),
  /** HMAC-SHA256 key the sender signs bodies with; made up when absent. */
  secret: SecretSchema.optional(),
  enabled: z.boolean().default(true),
  /** "timestamped": only Standard Webhooks signatures (the delivery's id and time signed), so a captured delivery cannot be replayed; "any" also takes GitHub's body-only one. */
  signing: z.enum(HOOK_SIGNINGS).default("any"),
  /** At most `max` tasks made in any window of `per`, across every worker; null: no limit. */
  rateLimit: RateInputSchema.nullable().default(null),
});

export const HookPatchSchema = z
  .strictObject({
    name: ResourceNameSchema,
    task: z.record(z.string(), z.json()),
    enabled: z.boolean(),
    signing: z.enum(HOOK_SIGNINGS),
    rateLimit: RateInputSchema.nullable(),
    /** true: a new secret is made (and shown once). */
    rotateSecret: z.boolean(),
    /** With rotateSecret: the secret being replaced stays valid this long (ms), beside the new one. */
    graceMs: GraceSchema,
  })
  .partial();

/** What `POST /api/hooks/:id/preview` fills the template from: a delivery as the sender would send it. */
export const HookPreviewSchema = z.strictObject({
  /** The delivery's body: JSON (an object, array, …), or a string taken as a text body. */
  body: z.json().default(null),
  headers: z.record(z.string(), z.string()).default({}),
  query: z.record(z.string(), z.string()).default({}),
});

export function hookToJson(row: HookRow, options: { withSecret?: boolean; rateLimit?: RateLimitRow | undefined } = {}) {
  return {
    id: row.id,
    name: row.name,
    path: `/hooks/${row.name}`,
    task: row.task,
    enabled: row.enabled,
    signing: row.signing,
    previousSecretUntil: previousSecretUntil(row),
    /** Deliveries beyond it are answered 429 (Retry-After) and make nothing. */
    rateLimit: limitWindowToJson(options.rateLimit),
    receivedCount: row.received_count,
    rejectedCount: row.rejected_count,
    lastReceivedAt: row.last_received_at?.toISOString() ?? null,
    ...lastMade(row.task, row.last_task_id),
    lastError: row.last_error,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    ...(options.withSecret ? { secret: row.secret } : {}),
  };
}
