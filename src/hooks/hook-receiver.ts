/**
 * One delivery to POST /hooks/<name>: the signature checked against the hook's secret, the body
 * read, the hook's template filled from it, and the task made (with its document, in the agent).
 *
 * - Signature (signing.ts): a timestamped one (Standard Webhooks: webhook-id, webhook-timestamp,
 *   webhook-signature) when the delivery brings one — then it must be good, whatever else it
 *   brings — else, unless the hook takes timestamped ones only, "X-Signature-256: sha256=<hex
 *   HMAC-SHA256 of the raw body>" (GitHub's X-Hub-Signature-256 is read too). Compared in constant
 *   time; nothing is made without one.
 * - Idempotency: the delivery's id (webhook-id when timestamped, else Idempotency-Key,
 *   X-GitHub-Delivery or X-Delivery-Id) becomes the task's key "hook:<hook id>:<delivery id>": a
 *   retried delivery, to this worker or another sharing the database, returns the task the first
 *   one made. Without one, every delivery makes a task.
 * - Rate limit (hook-rate-limit.ts): a signed delivery beyond the hook's limit is answered 429 with
 *   Retry-After, and makes nothing; one that makes no new task gives its start back, and a repeat
 *   of one that made its task is answered with it even while the window is full.
 * - What the template sees: body (parsed JSON, or the text), query, and the request's headers but
 *   the ones that carry credentials or the signature.
 */
import type { Logger } from "../logger.js";
import type { TaskMetrics } from "../metrics.js";
import { fillTemplate } from "../rules/template.js";
import { pipelineIn } from "../pipelines/pipeline-in-task.js";
import type { HookStore } from "../store/hook-store.js";
import type { HookRow } from "../store/sql/hooks/hook-row.js";
import type { Task } from "../tasks/types.js";
import { ValidationError, type FieldError } from "../validation.js";
import type { HookRateLimit } from "./hook-rate-limit.js";
import { validSecrets } from "./secret-rotation.js";
import { signatureMatches, timestampedRefusal } from "./signing.js";

export { signBody } from "./signing.js";

type Headers = Record<string, string | string[] | undefined>;

/** Never handed to a template: credentials and the signature itself. */
const HIDDEN_HEADERS = new Set(["authorization", "proxy-authorization", "cookie", "x-signature-256", "x-hub-signature-256", "x-hub-signature", "webhook-signature"]);
const DELIVERY_HEADERS = ["idempotency-key", "x-github-delivery", "x-delivery-id"];

export interface Delivery {
  rawBody: Buffer;
  headers: Headers;
  query: Record<string, unknown>;
}

/** What a delivery made: a task, or a pipeline (a hook whose task is `{ "pipeline": {...} }`). */
export type Made = { kind: "task" | "pipeline"; id: string; status: string };

export type DeliveryAnswer =
  | { status: 200 | 202; body: { task: { id: string; status: string }; created: boolean } | { pipeline: { id: string; status: string }; created: boolean } }
  | { status: 400 | 401 | 404; body: { error: string; message: string; errors?: FieldError[] } }
  | { status: 429; body: { error: "rate_limited"; message: string }; retryAfterSeconds: number };

/**
 * The task request a delivery makes: the hook's template filled from the delivery's body, query
 * and headers (but the credentials and the signature). Also what `hook preview` shows.
 */
export function fillHookTask(hook: Pick<HookRow, "id" | "name" | "task">, delivery: { body: unknown; headers: Headers; query: Record<string, unknown> }): Record<string, unknown> {
  const headers = Object.fromEntries(Object.entries(delivery.headers).filter(([k]) => !HIDDEN_HEADERS.has(k.toLowerCase())).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(", ") : v]));
  return fillTemplate(hook.task, { hook: { id: hook.id, name: hook.name }, body: delivery.body, query: delivery.query, headers }) as Record<string, unknown>;
}

const header = (headers: Headers, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};


/** What a hook needs of pipelines: make one, or find the one a delivery's key made. */
export interface HookPipelines {
  create(input: unknown, origin: string): Promise<{ pipeline: { id: string; status: string }; created: boolean }>;
  find(idempotencyKey: string): Promise<{ id: string; status: string } | undefined>;
}

export class HookReceiver {
  constructor(
    private readonly store: HookStore,
    private readonly createTask: (input: unknown, origin: string) => Promise<{ task: Task; created: boolean }>,
    private readonly logger: Logger,
    private readonly metrics?: TaskMetrics,
    private readonly limits: {
      /** Absent: hooks have no rate limits here (tests of other things). */
      rateLimit?: HookRateLimit;
      /** The task an idempotency key made, for a repeat that arrives while the hook's window is full. */
      findTask?: (idempotencyKey: string) => Promise<Task | undefined>;
      /** Pipelines (src/pipelines/); absent: a hook that makes one answers 400. */
      pipelines?: HookPipelines;
    } = {},
  ) {}

  async receive(name: string, delivery: Delivery): Promise<DeliveryAnswer> {
    const hook = await this.store.get(name);
    // A disabled hook answers as a missing one: a sender learns nothing about it.
    if (!hook || hook.name !== name || !hook.enabled) return { status: 404, body: { error: "not_found", message: `no hook named '${name}'` } };
    const refusal = this.signatureRefusal(hook, delivery);
    if (refusal) return this.reject(hook, 401, "bad_signature", refusal);
    const body = this.readBody(delivery);
    if (body instanceof Error) return this.reject(hook, 400, "bad_body", body.message);
    const timestamped = header(delivery.headers, "webhook-signature") !== undefined;
    const deliveryId = timestamped ? header(delivery.headers, "webhook-id") : DELIVERY_HEADERS.map((h) => header(delivery.headers, h)).find((v) => v !== undefined && v.length > 0);
    if (deliveryId !== undefined && deliveryId.length > 200) return this.reject(hook, 400, "bad_delivery_id", `the delivery id is ${deliveryId.length} characters long; at most 200`);
    const key = deliveryId !== undefined ? `hook:${hook.id}:${deliveryId}` : undefined;
    const admission = (await this.limits.rateLimit?.admit(hook.id)) ?? { admitted: true as const, giveBack: () => Promise.resolve() };
    if (!admission.admitted) {
      // A repeat of a delivery that made its task is answered with it, full window or not.
      const existing = key !== undefined ? await this.findMade(hook, key) : undefined;
      if (existing) return this.accepted(hook, existing, false, deliveryId);
      const seconds = Math.max(1, Math.ceil(admission.retryAfterMs / 1000));
      const message = `rate limited: this hook makes at most ${admission.limit.max} task(s) per ${admission.limit.perMs / 1000} s; try again in ${seconds} s`;
      await this.recordRefusal(hook, "rate_limited", message, "rate_limited");
      return { status: 429, body: { error: "rate_limited", message }, retryAfterSeconds: seconds };
    }
    const request = fillHookTask(hook, { body, headers: delivery.headers, query: delivery.query });
    const keyed = key !== undefined ? { idempotencyKey: key } : {};
    try {
      const { made, created } = await this.make(hook, request, keyed);
      if (!created) await admission.giveBack();
      return await this.accepted(hook, made, created, deliveryId);
    } catch (error) {
      await admission.giveBack();
      if (!(error instanceof ValidationError)) throw error;
      await this.store.recordDelivery(hook.id, { accepted: false, taskId: null, error: error.message });
      this.metrics?.hookDeliveries.inc({ outcome: "rejected" });
      const what = pipelineIn(hook.task) !== undefined ? "pipeline" : "task";
      return { status: 400, body: { error: "validation_failed", message: `the ${what} this delivery makes is invalid`, errors: error.errors } };
    }
  }

  /** Makes the delivery's task, or its pipeline. */
  private async make(hook: HookRow, request: Record<string, unknown>, keyed: { idempotencyKey?: string }): Promise<{ made: Made; created: boolean }> {
    const origin = `hook:${hook.name}`;
    const pipeline = pipelineIn(request);
    if (pipeline === undefined) {
      const { task, created } = await this.createTask({ ...request, ...keyed }, origin);
      return { made: { kind: "task", id: task.id, status: task.status }, created };
    }
    if (!this.limits.pipelines) throw new ValidationError("hook", [{ field: "task.pipeline", message: "this agent makes no pipelines from hooks" }]);
    const { pipeline: stored, created } = await this.limits.pipelines.create({ ...(pipeline as Record<string, unknown>), ...keyed }, origin);
    return { made: { kind: "pipeline", id: stored.id, status: stored.status }, created };
  }

  /** What an idempotency key made already: the hook's task or pipeline. */
  private async findMade(hook: HookRow, key: string): Promise<Made | undefined> {
    if (pipelineIn(hook.task) !== undefined) {
      const found = await this.limits.pipelines?.find(key);
      return found ? { kind: "pipeline", id: found.id, status: found.status } : undefined;
    }
    const task = await this.limits.findTask?.(key);
    return task ? { kind: "task", id: task.id, status: task.status } : undefined;
  }

  /** A delivery that made its task or pipeline, or repeated one that did: recorded, counted, answered. */
  private async accepted(hook: HookRow, made: Made, created: boolean, deliveryId: string | undefined): Promise<DeliveryAnswer> {
    await this.store.recordDelivery(hook.id, { accepted: true, taskId: made.id, error: null });
    this.metrics?.hookDeliveries.inc({ outcome: created ? "accepted" : "duplicate" });
    this.logger.info({ hook: hook.name, [made.kind === "task" ? "taskId" : "pipelineId"]: made.id, created, deliveryId }, created ? `hook delivery made a ${made.kind}` : `hook delivery repeated: its ${made.kind} exists`);
    const item = { id: made.id, status: made.status };
    return { status: created ? 202 : 200, body: made.kind === "task" ? { task: item, created } : { pipeline: item, created } };
  }

  /** Why the delivery's signature is refused; undefined when it is good. */
  private signatureRefusal(hook: HookRow, delivery: Delivery): string | undefined {
    // The current secret, and the previous one during a rotation's grace period.
    const secrets = validSecrets(hook);
    const timestamped = header(delivery.headers, "webhook-signature");
    if (timestamped !== undefined) {
      const signed = { id: header(delivery.headers, "webhook-id"), timestamp: header(delivery.headers, "webhook-timestamp"), signature: timestamped, body: delivery.rawBody };
      const refusals = secrets.map((secret) => timestampedRefusal(secret, signed));
      return refusals.includes(undefined) ? undefined : refusals[0];
    }
    if (hook.signing === "timestamped") {
      return "this hook takes timestamped signatures only (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature: v1,<base64 HMAC-SHA256 of '<id>.<timestamp>.<body>'>), so that a delivery cannot be replayed";
    }
    const signature = header(delivery.headers, "x-signature-256") ?? header(delivery.headers, "x-hub-signature-256");
    if (secrets.some((secret) => signatureMatches(secret, delivery.rawBody, signature))) return undefined;
    return signature
      ? "the X-Signature-256 header does not match the body signed with the hook's secret"
      : "missing X-Signature-256: sha256=<hex HMAC-SHA256 of the body with the hook's secret> (or a timestamped webhook-signature)";
  }

  private readBody(delivery: Delivery): unknown {
    const text = delivery.rawBody.toString("utf8");
    const type = header(delivery.headers, "content-type") ?? "";
    if (!/json/i.test(type)) return text;
    try {
      return text.length > 0 ? (JSON.parse(text) as unknown) : null;
    } catch (error) {
      return new Error(`the body is not valid JSON (${(error as Error).message})`);
    }
  }

  private async reject(hook: HookRow, status: 400 | 401, error: string, message: string): Promise<DeliveryAnswer> {
    await this.recordRefusal(hook, error, message, "rejected");
    return { status, body: { error, message } };
  }

  /** A refusal counted on the hook (rejectedCount, lastError), in the metrics and the log. */
  private async recordRefusal(hook: HookRow, error: string, message: string, outcome: "rejected" | "rate_limited"): Promise<void> {
    await this.store.recordDelivery(hook.id, { accepted: false, taskId: null, error: message });
    this.metrics?.hookDeliveries.inc({ outcome });
    this.logger.warn({ hook: hook.name, error }, `hook delivery refused: ${message}`);
  }
}
