/** The agent's HTTP API over one manager, on a free port, behind a test token. */
import { createApp, listen } from "../../src/http/server.js";
import { silentLogger } from "../../src/logger.js";
import type { TaskManager } from "../../src/tasks/task-manager.js";

export const TEST_TOKEN = "test-token-0123456789abcdef";

export async function serveApi(manager: TaskManager) {
  const { server, url } = await listen(createApp({ manager, metrics: manager.metrics!, logger: silentLogger(), apiToken: TEST_TOKEN }), "127.0.0.1", 0, TEST_TOKEN);
  /** GET without a body, POST with one (JSON). */
  const api = (path: string, body?: unknown) =>
    fetch(`${url}${path}`, { method: body === undefined ? "GET" : "POST", headers: { Authorization: `Bearer ${TEST_TOKEN}`, "Content-Type": "application/json" }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return {
    url,
    api,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
