/**
 * The agent's HTTP server (Express 4: reactor-mcp mounts its MCP endpoint on an Express app):
 * the task API, live streams, health, Prometheus metrics, the dashboard, and /mcp when a reactor
 * is given. Request bodies are size-limited; errors never carry stack traces.
 */
import type { Server } from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from "express";
import type { Logger } from "../logger.js";
import type { TaskMetrics } from "../metrics.js";
import type { TaskManager } from "../tasks/task-manager.js";
import { accessOf, callerOf, isLoopback, requireToken, type NamedToken } from "./auth.js";
import { readOnlyView } from "./read-only-view.js";
import { browserGuard } from "./browser-guard.js";
import { sameUserOnly } from "./peer-user.js";
import type { ScheduleService } from "../schedules/schedule-service.js";
import type { HookReceiver } from "../hooks/hook-receiver.js";
import type { HookService } from "../hooks/hook-service.js";
import { hookDeliveryRoute, hookRoutes } from "./routes/hook-routes.js";
import { scheduleRoutes } from "./routes/schedule-routes.js";
import { webhookRoutes } from "./routes/webhook-routes.js";
import { queueRoutes } from "./routes/queue-routes.js";
import { workerRoutes } from "./routes/worker-routes.js";
import { WorkerStore } from "../store/worker-store.js";
import { PauseService } from "../queue/pause-service.js";
import { PauseStore } from "../store/pause-store.js";
import { ConcurrencyService } from "../queue/concurrency-service.js";
import { TypeConcurrencyStore } from "../store/type-concurrency-store.js";
import { RateLimitService } from "../queue/rate-limit-service.js";
import { HolderBudgetService } from "../queue/holder-budget-service.js";
import { RateLimitStore } from "../store/rate-limit-store.js";
import { refuseNul } from "./refuse-nul.js";
import { attributed } from "../tasks/attribution.js";
import type { WebhookService } from "../webhooks/webhook-service.js";
import { templateRoutes } from "./routes/template-routes.js";
import type { TemplateService } from "../templates/template-service.js";
import { taskRoutes, type TaskCreator } from "./routes/task-routes.js";
import { approvalRoutes } from "./routes/approval-routes.js";
import { auditRoutes } from "./routes/audit-routes.js";
import { spendRoutes } from "./routes/spend-routes.js";
import { DailyBudgetService } from "../queue/daily-budget-service.js";
import { SpendStore } from "../store/spend-store.js";
import { auditTrail } from "./audit-trail.js";
import type { AuditLog } from "../audit/audit-log.js";
import type { AuditStore } from "../store/audit-store.js";
import { pipelineRoutes } from "./routes/pipeline-routes.js";
import { PipelineService } from "../pipelines/pipeline-service.js";
import { PipelineStore } from "../store/pipeline-store.js";
import type { TaskBatchCreator } from "../tasks/api-task-creator.js";

export interface HttpOptions {
  manager: TaskManager;
  metrics: TaskMetrics;
  logger: Logger;
  apiToken?: string | undefined;
  /** API_READ_TOKEN: may only read (GET, HEAD); see auth.ts. */
  readToken?: string | undefined;
  /** API_USERS: named tokens that may do everything; see auth.ts. */
  users?: readonly NamedToken[];
  /** API_READERS: named tokens that may only read; see auth.ts. */
  readers?: readonly NamedToken[];
  /** The names people are known by here (API_USERS, TASK_AUTHORIZED_WRITERS): a budget set for another is warned of (person-budget-names.ts); absent: not checked. */
  knownPeople?: readonly string[];
  /** HTTP_ALLOWED_HOSTS: names answered without API_TOKEN besides loopback ones; see browser-guard.ts. */
  allowedHosts?: readonly string[] | undefined;
  /** Default: manager.enqueueTask. The agent passes one that also creates the task document. */
  createTask?: TaskCreator;
  /** Cron schedules (/api/schedules); absent: no such endpoints. */
  schedules?: ScheduleService;
  /** Named task templates (/api/templates), which POST /api/tasks may name. */
  templates?: TemplateService;
  /** Inbound webhooks: /api/hooks (behind the token) and POST /hooks/<name> (signed instead). */
  hooks?: { service: HookService; receiver: HookReceiver };
  /** Outbound webhooks (/api/webhooks). */
  webhooks?: WebhookService;
  /** Pipelines (/api/pipelines). Default: their tasks made by manager.enqueueTasks, without documents. */
  pipelines?: PipelineService;
  /** The audit log: every change asked for through HTTP goes in it (audit-trail.ts), and GET /api/audit reads it. */
  audit?: { log: AuditLog; store: AuditStore };
  /** HTTP_TRUSTED_PROXIES: the audit log records the address their X-Forwarded-For names (req.ip); nothing else reads it. */
  trustedProxies?: readonly string[];
  /** Extra routes mounted behind auth (e.g. reactor-mcp's /mcp). */
  mount?: (app: Express) => void;
  startedAt?: Date;
}

const DASHBOARD_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "dashboard");

export function createApp(options: HttpOptions): Express {
  const app = express();
  app.disable("x-powered-by");
  const startedAt = options.startedAt ?? new Date();

  app.use(securityHeaders);
  // First: a request refused by any guard below is recorded too (with no one as its author).
  // Express's "trust proxy" changes req.ip, req.protocol and req.hostname: only req.ip is read (the audit
  // log's `remote`); the host checks read the Host header itself and the same-user check the socket.
  if (options.trustedProxies && options.trustedProxies.length > 0) app.set("trust proxy", [...options.trustedProxies]);
  if (options.audit) app.use(auditTrail(options.audit.log, { apiToken: options.apiToken }));
  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok", workerId: options.manager.workerId, store: options.manager.store.kind, uptimeSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000) });
  });
  // Webhook senders cannot hold the API token: each delivery is signed with its hook's secret
  // (and may come through a tunnel under another host name), so neither guard below applies.
  if (options.hooks) app.use(hookDeliveryRoute(options.hooks.receiver));
  // Without a token: no other site's page, nor one whose name was pointed at this machine.
  app.use(browserGuard({ apiToken: options.apiToken, allowedHosts: options.allowedHosts }));
  // Nor another user of this machine (loopback is theirs too).
  app.use(sameUserOnly({ apiToken: options.apiToken }));
  // The dashboard's static files carry no data; the data behind them needs the token.
  app.use(express.static(DASHBOARD_DIR, { index: "index.html", maxAge: 0 }));
  app.use(requireToken({ full: options.apiToken, read: options.readToken, users: options.users, readers: options.readers }));
  app.use(readOnlyView);
  app.use(express.json({ limit: "1mb" }));
  app.use(refuseNul);

  // What this request's token may do: the dashboard hides what a read-only token cannot.
  app.get("/api/access", (_req, res) => {
    const name = callerOf(res);
    res.json({ access: accessOf(res), ...(name !== undefined ? { name } : {}) });
  });
  app.get("/metrics", (_req, res, next) => {
    options.metrics.registry
      .metrics()
      .then((text) => res.set("Content-Type", options.metrics.registry.contentType).send(text))
      .catch(next);
  });
  const createTask: TaskCreator = options.createTask ?? ((input, _origin, by) => options.manager.enqueueTask(attributed(input, by)));
  const templates = options.templates;
  // A request naming a template is expanded before it is checked like any other.
  app.use(taskRoutes(options.manager, templates ? async (input, origin, by) => createTask(await templates.expand(input), origin, by) : createTask));
  app.use(approvalRoutes(options.manager));
  if (options.audit) app.use(auditRoutes(options.audit.store));
  if (templates) app.use(templateRoutes(templates));
  if (options.schedules) app.use(scheduleRoutes(options.schedules));
  if (options.hooks) app.use(hookRoutes(options.hooks.service));
  if (options.webhooks) app.use(webhookRoutes(options.webhooks));
  const { store, registry } = options.manager;
  const enqueue: TaskBatchCreator = (inputs, { origin: _origin, by, ...rest }) => options.manager.enqueueTasks(inputs.map((input) => attributed(input, by)), rest);
  app.use(pipelineRoutes(options.pipelines ?? new PipelineService(new PipelineStore(store.db), options.manager, enqueue, templates ? (input, kind) => templates.expand(input, kind) : undefined)));
  app.use(queueRoutes(new PauseService(new PauseStore(store.db), registry), new RateLimitService(new RateLimitStore(store.db), registry), new ConcurrencyService(new TypeConcurrencyStore(store.db), registry)));
  app.use(workerRoutes(new WorkerStore(store.db), options.manager.workerId));
  const spend = new SpendStore(store.db);
  const { daily, drives, people } = options.manager.budgets;
  const budgetServices = { daily: new DailyBudgetService(spend, daily.settingUsd, options.logger), drives: new HolderBudgetService(spend, drives, options.logger), people: new HolderBudgetService(spend, people, options.logger) };
  const settings = { perDay: daily.settingUsd, perDrive: drives.defaultUsd, namedDrives: drives.named, perPerson: people.defaultUsd, namedPeople: people.named, warnAtPercent: daily.warnAtPercent };
  app.use(spendRoutes(spend, settings, budgetServices, { tokenRequired: options.apiToken !== undefined, knownPeople: options.knownPeople }));
  options.mount?.(app);

  app.use((_req, res) => {
    res.status(404).json({ error: "not_found", message: "no such endpoint" });
  });
  const onError: ErrorRequestHandler = (error: unknown, _req, res, _next) => {
    const status = typeof error === "object" && error !== null && "status" in error && typeof error.status === "number" ? error.status : 500;
    if (status >= 500) options.logger.error({ err: error }, "HTTP request failed");
    const type = typeof error === "object" && error !== null && "type" in error ? String(error.type) : undefined;
    const message = status === 413 ? "request body too large (limit 1 MB)" : type === "entity.parse.failed" ? "request body is not valid JSON" : status < 500 && error instanceof Error ? error.message : "internal error";
    if (!res.headersSent) res.status(status).json({ error: status === 413 ? "too_large" : status < 500 ? "bad_request" : "internal", message });
  };
  app.use(onError);
  return app;
}

/**
 * On every answer. The dashboard loads only its own files and talks only to this server, so its
 * page allows nothing else — no inline script or style, no other origin — and no other site may
 * frame it: a framed dashboard is this agent's own origin inside the frame, and a page around it
 * could trick its user into pressing Run or Pause (clickjacking), which the Origin check cannot tell
 * from the dashboard's own clicks.
 */
const securityHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
  });
  next();
};

export class HostNotAllowedError extends Error {}

/** Listens on host:port; refuses a non-loopback address without an API token. */
export async function listen(app: Express, host: string, port: number, apiToken: string | undefined): Promise<{ server: Server; url: string }> {
  if (!isLoopback(host) && !apiToken) {
    throw new HostNotAllowedError(`refusing to listen on non-loopback address ${host} without API_TOKEN: anyone who can reach it could run commands`);
  }
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(port, host, () => resolve(s));
    s.once("error", reject);
  });
  // Idle keep-alive connections live longer than clients keep them (Node's fetch: the server's
  // timeout less a second). With Node's default of 5 s, a client reusing a connection the moment
  // the server closed it got "other side closed" (seen in the tests: a webhook sender's second
  // delivery about 5 s after its first).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const address = server.address();
  const actualPort = typeof address === "object" && address ? address.port : port;
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return { server, url: `http://${shownHost}:${actualPort}` };
}
