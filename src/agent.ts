/**
 * The agent `npm start` runs: the embedded reactor, the task store and manager, the event
 * handler between them, and one HTTP server (API, live streams, dashboard, metrics, and
 * reactor-mcp's /mcp endpoint). Everything under one data directory.
 */
import path from "node:path";
import type { Server } from "node:http";
import { setupMcpServer } from "@powerhousedao/reactor-mcp";
import express from "express";
import type { IDocumentDriveServer } from "document-drive";
import { ConfigError, type Config } from "./config.js";
import { createLogger, type Logger } from "./logger.js";
import { TaskMetrics } from "./metrics.js";
import { ReactorDocumentContext } from "./reactor/document-context-provider.js";
import { TaskDocumentWriter } from "./reactor/document-writer.js";
import { createReactor, type ReactorStorageOption } from "./reactor/reactor-setup.js";
import type { Rule } from "./rules/rules-schema.js";
import { loadRulesFile } from "./rules/trigger-rules.js";
import { TaskStore } from "./store/task-store.js";
import { lockDataDir, SERVE, type DataDirLock } from "./store/data-dir-lock.js";
import { movedStoreProblem } from "./store/moved-store.js";
import { newerButCompatible } from "./store/schema-compatibility.js";
import { describeMode, ensurePrivateDataDir } from "./security/private-data-dir.js";
import { WriterPolicy } from "./security/authorized-writers.js";
import { agentSecrets } from "./security/redactor.js";
import { createApiTaskBatchCreator, createApiTaskCreator } from "./tasks/api-task-creator.js";
import { PipelineService } from "./pipelines/pipeline-service.js";
import { PipelineStore } from "./store/pipeline-store.js";
import { RuleResultStore } from "./store/rule-result-store.js";
import { TaskEventHandler } from "./tasks/event-handler.js";
import { BUILT_IN_TASK_TYPES, createDefaultRegistry } from "./tasks/executors/index.js";
import { loadExecutorPlugins } from "./tasks/executors/plugins.js";
import { ownMcpUrl, type OwnMcp } from "./tasks/executors/claude/agent-mcp.js";
import type { ExecutorRegistry } from "./tasks/executors/registry.js";
import { LoopGuard } from "./tasks/loop-guard.js";
import { managerSettingsFromConfig } from "./tasks/manager-settings.js";
import { TaskManager } from "./tasks/task-manager.js";
import { createApp, listen } from "./http/server.js";
import { Scheduler } from "./schedules/scheduler.js";
import { ScheduleService } from "./schedules/schedule-service.js";
import { ScheduleStore } from "./store/schedule-store.js";
import { HookReceiver } from "./hooks/hook-receiver.js";
import { HookService } from "./hooks/hook-service.js";
import { HookStore } from "./store/hook-store.js";
import { WebhookStore } from "./store/webhook-store.js";
import { AuditStore } from "./store/audit-store.js";
import { AuditLog } from "./audit/audit-log.js";
import { describeUndecidable, undecidableApprovals } from "./tasks/undecidable-approvals.js";
import { knownPeople } from "./security/known-people.js";
import { personBudgetSettingsProblem } from "./tasks/person-budget-names.js";
import { WebhookSender } from "./webhooks/webhook-sender.js";
import { WebhookService } from "./webhooks/webhook-service.js";
import { WebhookUrlPolicy } from "./webhooks/webhook-url-policy.js";
import { TemplateService } from "./templates/template-service.js";
import type { ExpandTemplate } from "./templates/template-reference.js";
import { TemplateStore } from "./store/template-store.js";
import { describeOpenEnded, openEndedEntries } from "./security/open-ended-entries.js";
import { cgroupRootProblem } from "./tasks/executors/run-cgroup.js";
import { agentLimits, agentLimitsProblem } from "./tasks/executors/run-limits.js";
import { claudeRoomProblem } from "./tasks/executors/claude/claude-limits.js";
import { openEndedSecrets } from "./security/task-secrets.js";
import { accessProblems, openRunUser } from "./tasks/executors/run-as-user.js";
import { locateClaudeBinary } from "./tasks/executors/claude/locate-claude-binary.js";
import { openAgentCgroup, reapDeadAgents, reapPeriodically, type ReapedAgent } from "./tasks/executors/agent-cgroup.js";
import { RateLimitStore } from "./store/rate-limit-store.js";
import { HookRateLimit } from "./hooks/hook-rate-limit.js";
import { removeSpentLocalDrives } from "./reactor/local-drive-retention.js";

export interface Agent {
  config: Config;
  logger: Logger;
  store: TaskStore;
  manager: TaskManager;
  registry: ExecutorRegistry;
  reactor: IDocumentDriveServer;
  localDriveId: string;
  handler: TaskEventHandler;
  pipelines: PipelineService;
  schedules: ScheduleService;
  scheduler: Scheduler;
  url: string;
  server: Server;
  /** Removes the full local drives every task of whose documents is past retention (hourly on its own); their ids. */
  removeSpentLocalDrives(): Promise<string[]>;
  stop(): Promise<void>;
}

export interface AgentOverrides {
  logger?: Logger;
  /** Default: FilesystemStorage in <data dir>/documents. */
  reactorStorage?: ReactorStorageOption;
  /** Default: the rules file (TASK_RULES_FILE). */
  rules?: Rule[];
  registry?: ExecutorRegistry;
  /** How long a writer holds a rule's end it took before another may write it (tests: a writer that stopped). */
  writeBackLeaseMs?: number;
  /** How long a document's task waits in the queue before the document is told why (waiting-notices.ts); tests shorten it. */
  waitToldAfterMs?: number;
}

export async function startAgent(config: Config, overrides: AgentOverrides = {}): Promise<Agent> {
  // Before anything opens: another process on this data directory is refused, naming it (data-dir-lock.ts).
  const lock = lockDataDir(config.dataDir, SERVE);
  try {
    return await startLockedAgent(config, overrides, lock);
  } catch (error) {
    lock.release();
    throw error;
  }
}

async function startLockedAgent(config: Config, overrides: AgentOverrides, lock: DataDirLock): Promise<Agent> {
  const logger = overrides.logger ?? createLogger({ level: config.LOG_LEVEL, format: config.LOG_FORMAT, secrets: agentSecrets(config) });
  const dataDir = ensurePrivateDataDir(config.dataDir);
  if (dataDir.tightenedFrom !== undefined) logger.warn({ dataDir: config.dataDir, was: describeMode(dataDir.tightenedFrom) }, `the data directory was open to other users (mode ${describeMode(dataDir.tightenedFrom)}); made it 0700`);
  if (dataDir.problem) logger.warn({ dataDir: config.dataDir }, dataDir.problem);
  const openEntries = openEndedEntries(config.TASK_COMMAND_ALLOWLIST);
  if (openEntries.length > 0) logger.warn({ entries: openEntries.map((e) => e.entry) }, describeOpenEnded(openEntries));
  const openSecrets = openEndedSecrets(config.TASK_SECRETS);
  if (openSecrets) logger.warn(openSecrets);
  // A cgroup root that cannot hold the runs would leave them unconfined: refused, not warned.
  const cgroupProblem = config.TASK_CGROUP_ROOT ? cgroupRootProblem(config.TASK_CGROUP_ROOT) : undefined;
  if (cgroupProblem) throw new ConfigError([{ field: "TASK_CGROUP_ROOT", value: config.TASK_CGROUP_ROOT, message: cgroupProblem }]);
  // Limits that cannot be applied would let runs go unlimited: refused too.
  const limits = agentLimits(config);
  const limitsProblem = agentLimitsProblem(limits, config.TASK_CGROUP_ROOT);
  if (limitsProblem) throw new ConfigError([limitsProblem]);
  // Likewise a run user that cannot be switched to: runs would have the agent's.
  const runUser = openRunUser(config.TASK_RUN_AS_USER);
  const runUserCannot = runUser ? accessProblems(runUser, config.allowedRoots, locateClaudeBinary(config.CLAUDE_CLI_PATH)) : [];
  if (runUser && runUserCannot.length > 0) logger.warn({ TASK_RUN_AS_USER: runUser.name }, `the runs' account ${runUser.name} cannot ${runUserCannot.join(", nor ")}: its tasks there fail`);
  const claudeRoom = claudeRoomProblem(limits);
  if (claudeRoom) logger.warn({ limits }, `${claudeRoom}: claude-code and claude-agent tasks are refused`);
  const agentCgroup = config.TASK_CGROUP_ROOT ? await openCgroupOfAgent(config.TASK_CGROUP_ROOT, config.TASK_KILL_GRACE_MS, logger) : undefined;
  const rules = overrides.rules ?? loadRulesFile(path.resolve(config.TASK_RULES_FILE)).rules;
  // Task types from TASK_EXECUTOR_PLUGINS, loaded before anything opens: a bad one stops start-up.
  const plugins = await loadExecutorPlugins(config.TASK_EXECUTOR_PLUGINS, { allowedRoots: config.allowedRoots, logger: logger.child({ component: "plugin" }) }, overrides.registry?.types() ?? BUILT_IN_TASK_TYPES);

  // Before the reactor: a store this agent may not work on (a newer agent's, 029) stops start-up
  // with nothing else left open.
  // An embedded store moved away (store copy --move) runs nowhere but where it went.
  const moved = config.DATABASE_URL ? undefined : movedStoreProblem(config.dataDir);
  if (moved) throw new ConfigError([{ field: "TASK_DATA_DIR", value: config.dataDir, message: moved }]);
  const store = await TaskStore.open(
    config.DATABASE_URL
      ? { databaseUrl: config.DATABASE_URL, asyncCommit: config.TASK_STORE_ASYNC_COMMIT, onError: (err) => logger.error({ err }, "database connection error") }
      : { dataDir: path.join(config.dataDir, "store"), asyncCommit: config.TASK_STORE_ASYNC_COMMIT },
  );
  const newerStore = newerButCompatible(store.schema);
  if (newerStore) logger.warn({ schema: store.schema }, newerStore);
  const undecidable = describeUndecidable(await undecidableApprovals(store.db, knownPeople(config)));
  if (undecidable) logger.warn(undecidable);
  const personBudgets = personBudgetSettingsProblem(config);
  if (personBudgets) logger.warn(personBudgets);

  const { reactor, localDriveId, localDrives } = await createReactor({
    storage: overrides.reactorStorage ?? { kind: "filesystem", dir: path.join(config.dataDir, "documents") },
    logger,
    logLevel: config.LOG_LEVEL,
    remoteDriveUrl: config.REMOTE_DRIVE_URL,
    localDriveMaxDocuments: config.TASK_LOCAL_DRIVE_MAX_DOCUMENTS,
  });
  // Claude agent tasks default to our own reactor-mcp, known once the HTTP server listens.
  const ownMcp: { current?: OwnMcp } = {};
  const registry = overrides.registry ?? createDefaultRegistry(config, { documentContext: new ReactorDocumentContext(reactor), ownMcp: () => ownMcp.current, ...(agentCgroup ? { cgroupRoot: agentCgroup.dir } : {}), runUser });
  for (const executor of plugins.executors) registry.register(executor);
  const metrics = new TaskMetrics({ store, types: registry.types(), defaultMetrics: true, budgetUsdPerDay: config.TASK_BUDGET_USD_PER_DAY, budgetUsdPerDrivePerDay: config.TASK_BUDGET_USD_PER_DRIVE_PER_DAY, budgetUsdPerPersonPerDay: config.TASK_BUDGET_USD_PER_PERSON_PER_DAY });
  const settings = managerSettingsFromConfig(config);
  const manager = new TaskManager(store, registry, { ...settings, typeConcurrency: { ...settings.typeConcurrency, ...plugins.typeConcurrency } }, logger, metrics);

  // Schedules, hooks, pipelines and rules may name a saved template instead of holding a task of their own.
  const templates = new TemplateService(new TemplateStore(store.db), registry);
  const expandTemplate: ExpandTemplate = (input, kind) => templates.expand(input, kind);
  // Pipelines: their steps' tasks too, each with its document (unless linked to one: a rule's), all stored in one transaction.
  const pipelines = new PipelineService(new PipelineStore(store.db), manager, createApiTaskBatchCreator(manager, reactor, localDrives), expandTemplate);

  // Who asked for which change, through the API, a hook or a document (audit-log.ts).
  const auditStore = new AuditStore(store.db);
  const audit = new AuditLog(auditStore, manager.workerId, logger, config.TASK_AUDIT_RETENTION);

  // The writer tells the handler which actions are the agent's own (they never trigger tasks).
  const own: { handler?: TaskEventHandler } = {};
  const writer = new TaskDocumentWriter(reactor, logger, { outputFlushMs: 1000, outputChunkChars: 4096 }, (action) => own.handler?.noteOwnAction(action));
  const handler = new TaskEventHandler({
    manager,
    reactor,
    writer,
    guard: new LoopGuard({ maxChainDepth: config.TASK_MAX_CHAIN_DEPTH, maxTasksPerDocumentPerMinute: config.TASK_MAX_TASKS_PER_DOCUMENT_PER_MINUTE, maxTasksPerDrivePerMinute: config.TASK_MAX_TASKS_PER_DRIVE_PER_MINUTE }),
    rules,
    logger,
    metrics,
    writers: new WriterPolicy(config.TASK_AUTHORIZED_WRITERS),
    audit,
    pipelines,
    ruleResults: new RuleResultStore(store.db),
    writeBackLeaseMs: overrides.writeBackLeaseMs,
    waitToldAfterMs: overrides.waitToldAfterMs,
  });
  own.handler = handler;
  handler.attach();

  // Cron schedules: their tasks are made like API tasks (each with its task document).
  const createTask = createApiTaskCreator(manager, reactor, localDrives);
  const createFromTemplate: typeof createTask = async (input, origin) => createTask(await expandTemplate(input), origin);
  const scheduleStore = new ScheduleStore(store.db);
  const scheduler = new Scheduler({ store: scheduleStore, workerId: manager.workerId, pollMs: config.TASK_SCHEDULE_POLL_MS, createTask: createFromTemplate, createPipeline: async (input, origin) => (await pipelines.create(input, origin)).pipeline, getTask: async (id) => (await manager.getTask(id)) ?? (await pipelines.get(id)), logger, metrics });
  const schedules = new ScheduleService(scheduleStore, registry, () => scheduler.wake(), expandTemplate);
  // Inbound webhooks: the same, per signed delivery.
  const hookStore = new HookStore(store.db);
  const hooks = { service: new HookService(hookStore, registry, expandTemplate), receiver: new HookReceiver(hookStore, createFromTemplate, logger, metrics, { rateLimit: new HookRateLimit(new RateLimitStore(store.db, "hook")), findTask: (key) => manager.findByIdempotencyKey(key), pipelines }) };
  // Outbound webhooks: task events, POSTed where someone asked for them (and the allow-list lets them).
  const webhookStore = new WebhookStore(store.db);
  const urlPolicy = new WebhookUrlPolicy(config.TASK_WEBHOOK_URL_ALLOWLIST);
  const webhookSender = new WebhookSender({
    store: webhookStore,
    workerId: manager.workerId,
    pollMs: config.TASK_WEBHOOK_POLL_MS,
    timeoutMs: config.TASK_WEBHOOK_TIMEOUT_MS,
    maxAttempts: config.TASK_WEBHOOK_MAX_ATTEMPTS,
    retry: { baseMs: config.TASK_RETRY_BASE_MS, maxMs: config.TASK_RETRY_MAX_MS },
    retentionMs: config.TASK_RESULT_TTL,
    logger,
    metrics,
    urlPolicy,
  });
  for (const event of ["completed", "failed", "cancelled", "started", "retrying", "awaitingApproval"] as const) manager.on(event, () => webhookSender.taskChanged());
  const webhooks = new WebhookService(webhookStore, () => webhookSender.wake(), urlPolicy);

  // reactor-mcp: the documents over MCP at /mcp, behind the same token as the API.
  const mcpApp = express();
  await setupMcpServer(reactor, mcpApp);
  const app = createApp({
    manager,
    metrics,
    logger,
    apiToken: config.API_TOKEN,
    readToken: config.API_READ_TOKEN,
    users: config.API_USERS,
    readers: config.API_READERS,
    knownPeople: knownPeople(config),
    allowedHosts: config.HTTP_ALLOWED_HOSTS,
    trustedProxies: config.HTTP_TRUSTED_PROXIES,
    createTask,
    schedules,
    hooks,
    webhooks,
    templates,
    pipelines,
    audit: { log: audit, store: auditStore },
    mount: (main) => main.use(mcpApp),
  });
  const { server, url } = await listen(app, config.HOST, config.PORT, config.API_TOKEN);
  ownMcp.current = { url: ownMcpUrl(url), token: config.API_TOKEN };
  await manager.start();
  scheduler.start();
  webhookSender.start();
  audit.start();
  const scan = await handler.scan();
  logger.info({ url, store: store.kind, dataDir: config.dataDir, workerId: manager.workerId, rules: rules.length, ...scan }, "powerhouse-tasks agent started");
  process.stderr.write(`powerhouse-tasks agent: dashboard ${url}/  API ${url}/api/tasks  MCP ${url}/mcp  metrics ${url}/metrics  (data: ${config.dataDir}, store: ${store.kind})\n`);

  // Full local drives whose tasks are all past retention go, with their documents (local-drive-retention.ts).
  let driveRetention: Promise<string[]> | undefined;
  const removeSpent = (): Promise<string[]> =>
    (driveRetention ??= removeSpentLocalDrives({ reactor, drives: localDrives, existingTaskIds: (ids) => store.existingIds(ids), logger }).finally(() => (driveRetention = undefined)));
  const retentionTimer = setInterval(() => void removeSpent(), LOCAL_DRIVE_RETENTION_EVERY_MS);
  retentionTimer.unref();

  let stopped = false;
  return {
    config, logger, store, manager, registry, reactor, localDriveId, handler, pipelines, schedules, scheduler, url, server,
    removeSpentLocalDrives: removeSpent,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(retentionTimer);
      await driveRetention;
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await scheduler.stop();
      await webhookSender.stop();
      await manager.stop();
      await agentCgroup?.remove();
      await handler.idle();
      handler.detach();
      await audit.stop();
      await store.close();
      lock.release();
      logger.info("powerhouse-tasks agent stopped");
    },
  };
}

/** How often full local drives are looked at for retention. */
const LOCAL_DRIVE_RETENTION_EVERY_MS = 3_600_000;

/** How often a running agent looks for what other, dead agents' runs left going on this machine. */
const REAP_EVERY_MS = 5000;

/**
 * This agent's cgroup directory, once what dead agents' runs left under the root is ended — and
 * again every few seconds while it runs (stopped by `remove`).
 */
async function openCgroupOfAgent(root: string, graceMs: number, logger: Logger): Promise<{ dir: string; remove: () => Promise<void> }> {
  const report = (reaped: ReapedAgent[]) => {
    for (const dead of reaped) {
      if (dead.stuck) logger.error({ dir: dead.dir }, "processes a dead agent's runs left would not end; their cgroup is kept");
      else if (dead.processes > 0) logger.warn({ dir: dead.dir, processes: dead.processes }, `ended ${dead.processes} process(es) a dead agent's runs left going (their tasks run again after their leases expire)`);
    }
  };
  report(await reapDeadAgents(root, graceMs));
  const own = openAgentCgroup(root);
  const stopReaping = reapPeriodically(root, graceMs, REAP_EVERY_MS, report, (error) => logger.error({ err: error }, "looking for dead agents' runs failed; trying again"));
  return {
    dir: own.dir,
    remove: async () => {
      await stopReaping();
      own.remove();
    },
  };
}
