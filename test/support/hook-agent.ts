/**
 * An HTTP server with the inbound hooks wired as the agent wires them (the receiver with its rate
 * limits and the repeat lookup), over a test manager on `store`: what the hook tests talk to.
 */
import type { Server } from "node:http";
import { HookRateLimit } from "../../src/hooks/hook-rate-limit.js";
import { HookReceiver } from "../../src/hooks/hook-receiver.js";
import { HookService } from "../../src/hooks/hook-service.js";
import { createApp, listen } from "../../src/http/server.js";
import { silentLogger } from "../../src/logger.js";
import { HookStore } from "../../src/store/hook-store.js";
import { RateLimitStore } from "../../src/store/rate-limit-store.js";
import type { TaskStore } from "../../src/store/task-store.js";
import type { TaskManager } from "../../src/tasks/task-manager.js";
import { cliRegistry, testManager } from "./manager.js";

/** The API token of these servers (hook deliveries need none). */
export const HOOK_API_TOKEN = "api-token-0123456789";

export interface HookAgent {
  store: TaskStore;
  manager: TaskManager;
  server: Server;
  url: string;
  hooks: HookService;
}

export async function startHookAgent(store: TaskStore): Promise<HookAgent> {
  const manager = testManager(store, {}, cliRegistry());
  const hookStore = new HookStore(store.db);
  const hooks = new HookService(hookStore, manager.registry);
  const receiver = new HookReceiver(hookStore, (input, origin) => manager.enqueueTask({ ...(input as object), source: { origin } }), silentLogger(), manager.metrics, {
    rateLimit: new HookRateLimit(new RateLimitStore(store.db, "hook")),
    findTask: (key) => manager.findByIdempotencyKey(key),
  });
  const app = createApp({ manager, metrics: manager.metrics!, logger: silentLogger(), apiToken: HOOK_API_TOKEN, hooks: { service: hooks, receiver } });
  const { server, url } = await listen(app, "127.0.0.1", 0, HOOK_API_TOKEN);
  return { store, manager, server, url, hooks };
}

export async function stopHookAgent(agent: HookAgent): Promise<void> {
  agent.server.closeAllConnections();
  await new Promise((resolve) => agent.server.close(resolve));
}
