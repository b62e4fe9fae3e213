/**
 * Sends outbound webhook deliveries: every worker runs one. It claims the deliveries that are due
 * (one worker per delivery at a time, see claim-due-deliveries.ts), POSTs each to its webhook's
 * URL and records the outcome:
 *
 * - a 2xx answer: delivered;
 * - anything else (another status, no answer within the timeout, a refused connection, a redirect:
 *   redirects are not followed): tried again after an exponential backoff with jitter — a
 *   Retry-After header of a 429 or 503 wins — until TASK_WEBHOOK_MAX_ATTEMPTS, then dead (kept,
 *   listed, and sent again on request);
 * - a 429 or 503 ("slow down") also holds the whole webhook until that retry — its other pending
 *   deliveries and those made meanwhile — so a busy receiver is not sent the rest of a burst only
 *   to refuse each.
 *
 * At least once: a worker that dies between the POST and recording it leaves the delivery to
 * another after the lease, which sends it again with the same X-PH-Delivery id (also sent as
 * Idempotency-Key, which this agent's own inbound hooks honour). The body is the same on every
 * attempt and signed with the webhook's secret twice (signing.ts): X-Signature-256 over the body,
 * and the Standard Webhooks headers (webhook-id: the delivery id, webhook-timestamp: the time of
 * this attempt, webhook-signature), which let a receiver — this agent's own hooks among them —
 * refuse a captured delivery sent again later.
 *
 * A webhook with a rate limit gets at most its limit's deliveries (first attempts and retries
 * alike) in any window, across every worker (webhook-rate-limits.ts); the rest wait, due.
 *
 * It looks every TASK_WEBHOOK_POLL_MS, at once when a task of this worker ends while webhooks are
 * on, and when the soonest retry it knows is due or a rate-limited webhook's window has room again.
 */
import type { Logger } from "../logger.js";
import type { TaskMetrics } from "../metrics.js";
import { PollLoop } from "../poll-loop.js";
import { signBody, timestampedHeaders } from "../hooks/signing.js";
import type { DueDelivery } from "../store/sql/webhooks/webhook-row.js";
import type { DeliveryOutcome } from "../store/sql/webhooks/finish-delivery.js";
import type { WebhookUrlPolicy } from "./webhook-url-policy.js";
import type { WebhookStore } from "../store/webhook-store.js";
import { retryDelayMs, type RetryPolicy } from "../tasks/retry-policy.js";
import { RateLimitStore } from "../store/rate-limit-store.js";
import { WebhookRateLimits } from "./webhook-rate-limits.js";
import { PipelineAnnouncer } from "../pipelines/pipeline-announcer.js";
import { PIPELINE_CHECK_TRIGGER } from "../store/migrations/032-pipeline-events.js";
import { deliverySubject } from "../store/sql/webhooks/webhook-row.js";

/** Deliveries sent per look at most, at once (the rest are due at the next look, at once). */
const BATCH = 20;
/** How much of an answer's body goes into the delivery's last error. */
const ERROR_BODY_CHARS = 200;

export interface WebhookSenderOptions {
  store: WebhookStore;
  workerId: string;
  pollMs: number;
  /** No answer within this long: the attempt failed. */
  timeoutMs: number;
  /** Attempts before a delivery is dead. */
  maxAttempts: number;
  retry: RetryPolicy;
  /** Delivered and dead deliveries are removed after this long (TASK_RESULT_TTL). */
  retentionMs: number;
  logger: Logger;
  metrics?: TaskMetrics;
  /** How often old deliveries are removed; default an hour. */
  cleanupEveryMs?: number;
  /** TASK_WEBHOOK_URL_ALLOWLIST, checked again before each POST: a URL no longer allowed is not sent to. */
  urlPolicy?: WebhookUrlPolicy;
}

export class WebhookSender {
  private readonly loop: PollLoop;
  private readonly rateLimits: WebhookRateLimits;
  private readonly pipelines: PipelineAnnouncer;
  /** Whether any webhook was enabled at the last look (a trigger on, or one asking for the budget's events): a task's end wakes the sender only then. */
  private active = false;
  private lastCleanup = 0;

  constructor(private readonly options: WebhookSenderOptions) {
    this.rateLimits = new WebhookRateLimits(new RateLimitStore(options.store.db, "webhook"));
    this.pipelines = new PipelineAnnouncer(options.store.db);
    this.loop = new PollLoop(() => this.look(), options.pollMs, (error) => options.logger.error({ err: error }, "sending webhook deliveries failed; trying again shortly"));
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** A webhook was created or changed, or a delivery made due again: look now. */
  wake(): void {
    this.active = true;
    this.loop.wake();
  }

  /** A task of this worker started, is retrying or ended: its deliveries (if any webhook is on) are due now. */
  taskChanged(): void {
    if (this.active) this.loop.wake();
  }

  private async look(): Promise<number> {
    const { store, workerId, timeoutMs, pollMs } = this.options;
    const triggers = await store.activeSources();
    this.active = triggers.length > 0;
    // No webhook enabled: nothing is claimable (a paused webhook's deliveries wait), only cleanup is left.
    if (!this.active) {
      await this.cleanup();
      return pollMs;
    }
    // Pipelines whose steps ended since the last look: their ends become deliveries, claimed below.
    // Only while a webhook asks for pipeline events (checks are written only then; older ones wait).
    const checks = triggers.includes(PIPELINE_CHECK_TRIGGER) ? (await this.pipelines.announce()).checks : 0;
    const reservation = await this.rateLimits.reserve(BATCH);
    let due: DueDelivery[] = [];
    try {
      // The lease covers the whole batch's sending, timeouts included, with room to record it.
      due = await store.claimDue(workerId, timeoutMs * 2 + 5000, BATCH, reservation?.caps);
    } finally {
      // Not given back, they count until their window passes: fewer deliveries, never more.
      if (reservation) await this.rateLimits.settle(reservation, due).catch((error: unknown) => this.options.logger.error({ err: error }, "giving back unused webhook rate-limit starts failed"));
    }
    await Promise.all(due.map((delivery) => this.send(delivery)));
    await this.cleanup();
    if (due.length === BATCH || checks > 0) return 0;
    // Deliveries waiting for a full window are due already: they count from when it has room.
    const next = Math.min((await store.nextDue(reservation?.full))?.getTime() ?? Infinity, reservation?.nextFreeAt ?? Infinity);
    // At least a few ms when nothing was due: the database's clock may be behind this machine's.
    return Number.isFinite(next) ? Math.max(due.length === 0 ? 25 : 0, next - Date.now()) : pollMs;
  }

  private async send(delivery: DueDelivery): Promise<void> {
    const { logger, metrics } = this.options;
    const outcome = await this.attempt(delivery);
    const recorded = await this.options.store.finish(this.options.workerId, outcome);
    const fields = { webhook: delivery.webhook_name, deliveryId: delivery.id, ...deliverySubject(delivery), event: delivery.event, attempt: delivery.attempts, httpStatus: outcome.httpStatus };
    if (!recorded) {
      logger.warn(fields, "webhook delivery was taken over or removed while it was sent; its outcome here is not recorded");
      return;
    }
    metrics?.webhookDeliveries.inc({ outcome: outcome.status === "pending" ? "retrying" : outcome.status });
    if (outcome.status === "pending" && outcome.retryAt && (outcome.httpStatus === 429 || outcome.httpStatus === 503)) {
      await this.options.store.hold(delivery.webhook_id, outcome.retryAt, `HTTP ${outcome.httpStatus}`);
      logger.warn({ ...fields, until: outcome.retryAt.toISOString() }, "webhook receiver asked to slow down; no delivery goes to it before then");
    }
    if (outcome.status === "delivered") logger.debug(fields, "webhook delivered");
    else if (outcome.status === "pending") logger.warn({ ...fields, error: outcome.error, retryAt: outcome.retryAt?.toISOString() }, "webhook delivery failed; trying again later");
    else logger.error({ ...fields, error: outcome.error }, "webhook delivery failed for good (dead); `ph-tasks webhook redeliver` sends it again");
  }

  /** One POST; never throws. */
  private async attempt(delivery: DueDelivery): Promise<DeliveryOutcome> {
    if (this.options.urlPolicy && !this.options.urlPolicy.allows(delivery.url)) {
      // Not tried again: only a change of the webhook or of the list can help; redeliver sends it then.
      return { id: delivery.id, status: "dead", httpStatus: null, error: `not sent: the webhook's URL is ${this.options.urlPolicy.refusal()}` };
    }
    const body = JSON.stringify({ id: delivery.id, event: delivery.event, webhook: delivery.webhook_name, createdAt: delivery.created_at.toISOString(), ...deliveryBody(delivery) });
    let httpStatus: number | null = null;
    let error: string;
    let retryAfterMs: number | undefined;
    try {
      const res = await fetch(delivery.url, {
        method: "POST",
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(this.options.timeoutMs),
        headers: {
          "Content-Type": "application/json",
          "User-Agent": "powerhouse-tasks-webhook",
          "X-PH-Event": delivery.event,
          "X-PH-Delivery": delivery.id,
          "X-PH-Delivery-Attempt": String(delivery.attempts),
          "Idempotency-Key": delivery.id,
          "X-Signature-256": signBody(delivery.secret, body),
          // During a rotation's grace period, also signed with the previous secret (webhook-signature carries both).
          ...timestampedHeaders(delivery.previous_secret === null ? [delivery.secret] : [delivery.secret, delivery.previous_secret], delivery.id, body),
        },
      });
      httpStatus = res.status;
      // Only the start of the answer is read: a receiver's body is kept for the error, not trusted for its size.
      const text = await readStart(res, ERROR_BODY_CHARS * 4).catch(() => "");
      if (res.ok) return { id: delivery.id, status: "delivered", httpStatus, error: null };
      error = `HTTP ${res.status}${text ? `: ${text.slice(0, ERROR_BODY_CHARS)}` : ""}`;
      if (res.status >= 300 && res.status < 400) error = `HTTP ${res.status}: redirects are not followed (Location: ${res.headers.get("location") ?? "none"})`;
      retryAfterMs = parseRetryAfter(res.headers.get("retry-after"));
    } catch (caught) {
      error = describeFetchError(caught, this.options.timeoutMs);
    }
    if (delivery.attempts >= this.options.maxAttempts) return { id: delivery.id, status: "dead", httpStatus, error: `${error} (gave up after ${delivery.attempts} attempt${delivery.attempts === 1 ? "" : "s"})` };
    const delay = retryDelayMs(this.options.retry, delivery.attempts, retryAfterMs);
    return { id: delivery.id, status: "pending", retryAt: new Date(Date.now() + delay), httpStatus, error };
  }

  private async cleanup(): Promise<void> {
    const every = this.options.cleanupEveryMs ?? 3_600_000;
    if (Date.now() - this.lastCleanup < every) return;
    this.lastCleanup = Date.now();
    const removed = await this.options.store.deleteOld(this.options.retentionMs);
    if (removed > 0) this.options.logger.info({ removed }, "removed webhook deliveries past their retention");
  }
}

/** What a delivery is about: `task` (null for a ping), `pipeline` for a pipeline event, `budget` for the daily budget's. */
function deliveryBody(delivery: DueDelivery): { task: unknown } | { pipeline: unknown } | { budget: unknown } {
  if (deliverySubject(delivery).pipelineId !== undefined) return { pipeline: delivery.payload };
  if (delivery.event.startsWith("budget.")) return { budget: delivery.payload };
  return { task: delivery.task_id === null ? null : delivery.payload };
}

/** The first `maxBytes` or so of a response's body, as text; the rest is not read. */
async function readStart(res: Response, maxBytes: number): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  try {
    while (bytes < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return text;
}

/** Retry-After: seconds, or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function describeFetchError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) return `no answer within ${timeoutMs} ms`;
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  const message = error instanceof Error ? error.message : String(error);
  // fetch says "fetch failed"; the reason (refused, unknown host, a port fetch never uses) is its cause.
  const reason = [cause?.code, cause?.message].filter(Boolean).join(": ");
  return reason ? `${message} (${reason})` : message;
}
