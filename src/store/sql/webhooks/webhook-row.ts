import type { JsonObject } from "../../../tasks/types.js";
import { BUDGET_EVENTS } from "../spend/flip-budget-state.js";
import { DRIVE_BUDGET_EVENTS, PERSON_BUDGET_EVENTS } from "../holder-budgets/holder-budget-events.js";

/**
 * Task events a webhook can be told of: a task's end, each start (every attempt), each retry, and
 * an approval task that waits for a person's decision (migration 036).
 */
const TASK_EVENTS = ["completed", "failed", "cancelled", "started", "retrying", "awaiting_approval"] as const;
/** A pipeline's end, or a failed step holding the steps after it (migration 032). */
export const PIPELINE_EVENTS = ["pipeline.completed", "pipeline.failed", "pipeline.cancelled", "pipeline.blocked"] as const;
export type PipelineEvent = (typeof PIPELINE_EVENTS)[number];
/** The daily budget spent, or with room again (spend-budget.ts, migration 038); likewise a drive's (migration 041) and a person's (047; holder-budget.ts). */
export const WEBHOOK_EVENTS = [...TASK_EVENTS, ...PIPELINE_EVENTS, ...BUDGET_EVENTS, ...DRIVE_BUDGET_EVENTS, ...PERSON_BUDGET_EVENTS] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];
/** A task's end: what a webhook is told of when it names no events. */
export const END_EVENTS: readonly WebhookEvent[] = ["completed", "failed", "cancelled"];

/** A row of ph_webhooks as the SQL returns it. */
export interface WebhookRow {
  id: string;
  name: string;
  url: string;
  /** HMAC key each delivery's body is signed with; never shown after creation. */
  secret: string;
  /** The secret before the last rotation, also signed with until previous_secret_until (secret-rotation.ts). */
  previous_secret: string | null;
  previous_secret_until: Date | null;
  events: WebhookEvent[];
  /** Only tasks of this type (null: every type). */
  task_type: string | null;
  /** Only tasks of this drive (null: every drive, and tasks without one). */
  drive_id: string | null;
  enabled: boolean;
  /** A receiver's 429 or 503 holds every delivery until then (null: not held; may be past). */
  held_until: Date | null;
  /** Why it is held ("HTTP 429"). */
  held_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

/** What creating a webhook writes (no previous secret yet). */
export type NewWebhookFields = Omit<WebhookFields, "previous_secret" | "previous_secret_until">;

/** What saving a webhook writes. */
export type WebhookFields = Pick<WebhookRow, "name" | "url" | "secret" | "previous_secret" | "previous_secret_until" | "events" | "task_type" | "drive_id" | "enabled">;

export const DELIVERY_STATUSES = ["pending", "delivered", "dead"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** A row of ph_webhook_deliveries (the outbox). */
export interface DeliveryRow {
  id: string;
  webhook_id: string;
  /** Null for a ping; the pipeline's id for a pipeline.* event (deliveries go out in order per task_id). */
  task_id: string | null;
  /** "task.<event>" (task.completed, task.started, ...), "pipeline.<end>", or "ping". */
  event: string;
  /** The task (or pipeline) as it was at the event ({} for a ping). */
  payload: JsonObject;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: Date;
  locked_by: string | null;
  lease_expires_at: Date | null;
  /** HTTP status of the last attempt (null: no answer). */
  last_status: number | null;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
  delivered_at: Date | null;
}

/** A claimed delivery with what sending it needs from its webhook. */
export interface DueDelivery extends DeliveryRow {
  webhook_name: string;
  url: string;
  secret: string;
  /** The webhook's previous secret while it is still valid (null otherwise): deliveries are signed with both. */
  previous_secret: string | null;
}

/** Deliveries of one webhook, per status. */
export type DeliveryCounts = Record<DeliveryStatus, number>;

/** What a delivery is about, by the id its task_id column holds: a task's, or a pipeline's (pipeline.* events). */
export function deliverySubject(row: Pick<DeliveryRow, "task_id" | "event">): { taskId: string | null; pipelineId?: string } {
  return row.event.startsWith("pipeline.") && row.task_id !== null ? { taskId: null, pipelineId: row.task_id } : { taskId: row.task_id };
}
