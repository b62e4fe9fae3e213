/**
 * Creating, changing and removing outbound webhooks, and looking at their deliveries, for the
 * HTTP API (and through it the CLI). Sending is the WebhookSender's.
 */
import { v7 as uuidv7 } from "uuid";
import { graceProblem, rotateSecret } from "../hooks/secret-rotation.js";
import { newSecret } from "../hooks/signing.js";
import type { WebhookStore } from "../store/webhook-store.js";
import { RateLimitStore } from "../store/rate-limit-store.js";
import type { RateLimitRow } from "../store/sql/rate-limits/rate-limit-row.js";
import type { DeliveryCounts, DeliveryRow, NewWebhookFields, WebhookFields, WebhookRow } from "../store/sql/webhooks/webhook-row.js";
import { isUniqueViolation, NameTakenError, parseWith, ValidationError } from "../validation.js";
import { DeliveryQuerySchema, WebhookCreateSchema, WebhookPatchSchema } from "./webhook-schema.js";
import { WebhookUrlPolicy } from "./webhook-url-policy.js";

export class WebhookService {
  /** The webhooks' rate limits: rows of ph_rate_limits keyed by webhook id. */
  private readonly rateLimits: RateLimitStore;

  constructor(
    private readonly store: WebhookStore,
    /** Tells this worker's sender to look now (a delivery was made due again). */
    private readonly wake: () => void = () => undefined,
    private readonly urlPolicy = new WebhookUrlPolicy(),
  ) {
    this.rateLimits = new RateLimitStore(store.db, "webhook");
  }

  /** The rate limits of these webhooks (all when none are named), by webhook id. */
  async rateLimitsOf(ids?: readonly string[]): Promise<Map<string, RateLimitRow>> {
    return new Map((await this.rateLimits.list(ids)).map((row) => [row.key, row]));
  }

  private async setRateLimit(id: string, limit: { max: number; per: number } | null): Promise<void> {
    if (limit) await this.rateLimits.set(id, limit.max, limit.per, "");
    else await this.rateLimits.remove([id]);
  }

  /** A URL outside TASK_WEBHOOK_URL_ALLOWLIST is refused like any bad field. */
  private checkUrl(url: string): void {
    if (!this.urlPolicy.allows(url)) throw new ValidationError("webhook", [{ field: "url", message: this.urlPolicy.refusal(), value: JSON.stringify(url) }]);
  }

  async list(): Promise<{ rows: WebhookRow[]; counts: Map<string, DeliveryCounts> }> {
    const [rows, counts] = await Promise.all([this.store.list(), this.store.deliveryCounts()]);
    return { rows, counts };
  }

  get(idOrName: string): Promise<WebhookRow | undefined> {
    return this.store.get(idOrName);
  }

  async counts(id: string): Promise<DeliveryCounts | undefined> {
    return (await this.store.deliveryCounts(id)).get(id);
  }

  async create(input: unknown): Promise<WebhookRow> {
    const parsed = parseWith(WebhookCreateSchema, input);
    if (!parsed.ok) throw new ValidationError("webhook", parsed.errors);
    this.checkUrl(parsed.value.url);
    const { taskType, driveId, secret, rateLimit, ...rest } = parsed.value;
    const fields: NewWebhookFields = { ...rest, task_type: taskType, drive_id: driveId, secret: secret ?? newSecret() };
    const row = await this.store.insert(uuidv7(), fields);
    if (!row) throw new NameTakenError("webhook", fields.name);
    if (rateLimit) await this.setRateLimit(row.id, rateLimit);
    return row;
  }

  /** Undefined when there is no such webhook. */
  async update(idOrName: string, patch: unknown): Promise<WebhookRow | undefined> {
    const existing = await this.store.get(idOrName);
    if (!existing) return undefined;
    const change = parseWith(WebhookPatchSchema, patch);
    if (!change.ok) throw new ValidationError("webhook", change.errors);
    if (change.value.url !== undefined) this.checkUrl(change.value.url);
    const grace = graceProblem(change.value);
    if (grace) throw new ValidationError("webhook", [grace]);
    const { rotateSecret: rotate, graceMs, taskType, driveId, rateLimit, heldUntil, ...rest } = change.value;
    const fields: WebhookFields = {
      name: rest.name ?? existing.name,
      url: rest.url ?? existing.url,
      events: rest.events ?? existing.events,
      enabled: rest.enabled ?? existing.enabled,
      task_type: taskType === undefined ? existing.task_type : taskType,
      drive_id: driveId === undefined ? existing.drive_id : driveId,
      ...rotateSecret(existing, rotate, graceMs),
    };
    try {
      let row = await this.store.update(existing.id, fields);
      if (row && rateLimit !== undefined) await this.setRateLimit(row.id, rateLimit);
      // Lifted on request, or because another receiver (a new URL) has not asked to slow down.
      const lift = row?.held_until != null && (heldUntil === null || fields.url !== existing.url);
      if (row && lift) row = await this.store.liftHold(row.id);
      // Its deliveries waited while it was paused or held, or for a limit now raised or lifted.
      if (row?.enabled && (!existing.enabled || rateLimit !== undefined || lift)) this.wake();
      return row;
    } catch (error) {
      if (isUniqueViolation(error)) throw new NameTakenError("webhook", fields.name);
      throw error;
    }
  }

  async remove(idOrName: string): Promise<boolean> {
    const existing = await this.store.get(idOrName);
    return existing ? this.store.delete(existing.id) : false;
  }

  /** A webhook's deliveries, newest first; `query` is the HTTP query (status, limit). */
  deliveries(webhook: WebhookRow, query: unknown): Promise<DeliveryRow[]> {
    const parsed = parseWith(DeliveryQuerySchema, query);
    if (!parsed.ok) throw new ValidationError("delivery query", parsed.errors);
    return this.store.deliveries(webhook.id, parsed.value);
  }

  /** A "ping" delivery, sent at once (a paused webhook holds it until resumed). */
  async ping(webhook: WebhookRow): Promise<DeliveryRow> {
    const row = await this.store.ping(webhook.id);
    this.wake();
    return row;
  }

  async redeliver(webhook: WebhookRow, deliveryId: string): Promise<DeliveryRow | undefined> {
    const row = await this.store.redeliver(webhook.id, deliveryId);
    if (row) this.wake();
    return row;
  }
}
