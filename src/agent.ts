/**
 * The agent `npm start` runs: task store, executors, task manager, HTTP server (API, live
 * streams, dashboard, metrics) — and the reactor loop. Everything under one data directory.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Server } from "node:http";
import type { Config } from "./config.js";
import { createLogger, type Logger } from "./logger.js";
import { TaskMetrics } from "./metrics.js";
import { TaskStore } from "./store/task-store.js";
import { createDefaultRegistry } from "./tasks/executors/index.js";
import type { ExecutorRegistry } from "./tasks/executors/registry.js";
import { managerSettingsFromConfig } from "./tasks/manager-settings.js";
import { TaskManager } from "./tasks/task-manager.js";
import { createApp, listen } from "./http/server.js";

export interface Agent {
  config: Config;
  logger: Logger;
  store: TaskStore;
  manager: TaskManager;
  registry: ExecutorRegistry;
  url: string;
  server: Server;
  stop(): Promise<void>;
}

export interface AgentOverrides {
  logger?: Logger;
}

export async function startAgent(config: Config, overrides: AgentOverrides = {}): Promise<Agent> {
  const logger = overrides.logger ?? createLogger({ level: config.LOG_LEVEL, format: config.LOG_FORMAT, secrets: [config.ANTHROPIC_API_KEY, config.API_TOKEN] });
  mkdirSync(config.dataDir, { recursive: true });
  const store = await TaskStore.open(
    config.DATABASE_URL
      ? { databaseUrl: config.DATABASE_URL, onError: (err) => logger.error({ err }, "database connection error") }
      : { dataDir: path.join(config.dataDir, "store") },
  );
  const registry = createDefaultRegistry(config);
  const metrics = new TaskMetrics({ store, types: registry.types(), defaultMetrics: true });
  const manager = new TaskManager(store, registry, managerSettingsFromConfig(config), logger, metrics);

  const app = createApp({ manager, metrics, logger, apiToken: config.API_TOKEN });
  const { server, url } = await listen(app, config.HOST, config.PORT, config.API_TOKEN);
  await manager.start();
  logger.info({ url, dashboard: `${url}/`, api: `${url}/api/tasks`, metrics: `${url}/metrics`, store: store.kind, dataDir: config.dataDir, workerId: manager.workerId }, "powerhouse-tasks agent started");
  process.stderr.write(`powerhouse-tasks agent: dashboard ${url}/  API ${url}/api/tasks  metrics ${url}/metrics  (data: ${config.dataDir}, store: ${store.kind})\n`);

  let stopped = false;
  return {
    config, logger, store, manager, registry, url, server,
    async stop() {
      if (stopped) return;
      stopped = true;
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await manager.stop();
      await store.close();
      logger.info("powerhouse-tasks agent stopped");
    },
  };
}
