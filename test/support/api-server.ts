/** The agent's HTTP API over one manager, on a free port, behind a test token. */
import { afterEach, beforeEach } from "vitest";
import { createApp, listen } from "../../src/http/server.js";
import { TaskStore } from "../../src/store/task-store.js";
import { silentLogger } from "../../src/logger.js";
import type { TaskManager } from "../../src/tasks/task-manager.js";
import { testManager } from "./manager.js";

export const TEST_TOKEN = "test-token-0123456789abcdef";

export async function serveApi(manager: TaskManager) {
  const { server, url } = await listen(createApp({ manager, metrics: manager.metrics!, logger: silentLogger(), apiToken: TEST_TOKEN }), "127.0.0.1", 0, TEST_TOKEN);
  /** Any method, with the token; a body is sent as JSON. */
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${url}${path}`, { method, headers: { Authorization: `Bearer ${TEST_TOKEN}`, "Content-Type": "application/json" }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  /** GET without a body, POST with one (JSON). */
  const api = (path: string, body?: unknown) => call(body === undefined ? "GET" : "POST", path, body);
  return {
    url,
    api,
    call,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * For a describe block: before each test a fresh embedded store, a manager over it (not started)
 * and the API; all closed after. Read the fields inside the tests.
 */
export function apiPerTest() {
  const ctx = {} as { store: TaskStore; manager: TaskManager; http: Awaited<ReturnType<typeof serveApi>> };
  beforeEach(async () => {
    ctx.store = await TaskStore.open({});
    ctx.manager = testManager(ctx.store);
    ctx.http = await serveApi(ctx.manager);
  });
  afterEach(async () => {
    await ctx.http.close();
    await ctx.manager.stop(0);
    await ctx.store.close();
  });
  return ctx;
}
