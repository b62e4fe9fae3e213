/**
 * HTTP_TRUSTED_PROXIES: behind a reverse proxy named there, the audit log records the address the
 * proxy's X-Forwarded-For names rather than the proxy's own; without it a client's own
 * X-Forwarded-For is ignored (anyone may send one). The setting's errors name the entry.
 */
import type { Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { AuditLog } from "../src/audit/audit-log.js";
import { loadConfig } from "../src/config.js";
import { createApp, listen } from "../src/http/server.js";
import { silentLogger } from "../src/logger.js";
import { AuditStore } from "../src/store/audit-store.js";
import { TaskStore } from "../src/store/task-store.js";
import { testManager } from "./support/manager.js";

const TOKEN = "trusted-proxies-token-0123456789";

describe("the audit log behind a reverse proxy", () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  /** An agent's API with the audit log, trusting `proxies`; returns a change asked for with an X-Forwarded-For header and the address it was recorded with. */
  async function remoteRecorded(proxies: string[] | undefined, forwardedFor: string): Promise<string | null> {
    const store = await TaskStore.open({});
    const manager = testManager(store);
    const auditStore = new AuditStore(store.db);
    const log = new AuditLog(auditStore, manager.workerId, silentLogger(), 86_400_000);
    const { server, url } = await listen(createApp({ manager, metrics: manager.metrics!, logger: silentLogger(), apiToken: TOKEN, audit: { log, store: auditStore }, ...(proxies ? { trustedProxies: proxies } : {}) }), "127.0.0.1", 0, TOKEN);
    closers.push(() => store.close(), () => manager.stop(0), () => log.stop(), () => closeServer(server));
    const response = await fetch(`${url}/api/queue/pause`, { method: "POST", headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json", "X-Forwarded-For": forwardedFor }, body: JSON.stringify({ reason: "through the proxy" }) });
    expect(response.status).toBeLessThan(300);
    await log.flush();
    const [entry] = await auditStore.list({ limit: 10 });
    expect(entry?.action).toBe("POST /api/queue/pause");
    return entry?.remote ?? null;
  }

  it("records the client's address a trusted proxy forwards, and the connection's otherwise", async () => {
    expect(await remoteRecorded(["loopback"], "203.0.113.9")).toBe("203.0.113.9");
    // Through two hops: the nearest address the trusted proxies do not cover.
    expect(await remoteRecorded(["loopback", "10.0.0.0/8"], "203.0.113.9, 10.1.2.3")).toBe("203.0.113.9");
    expect(await remoteRecorded(["loopback"], "203.0.113.9, 10.1.2.3")).toBe("10.1.2.3");
    // Nothing trusted: the header is the client's say-so, not recorded.
    expect(await remoteRecorded(undefined, "203.0.113.9")).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
  });

  it("the setting takes loopback, linklocal, uniquelocal, addresses and ranges, and names a bad entry", () => {
    expect(loadConfig({}).HTTP_TRUSTED_PROXIES).toEqual([]);
    expect(loadConfig({ HTTP_TRUSTED_PROXIES: "loopback, 10.0.0.0/8,192.168.1.7, fd00::/8" }).HTTP_TRUSTED_PROXIES).toEqual(["loopback", "10.0.0.0/8", "192.168.1.7", "fd00::/8"]);
    for (const bad of ["proxy.example.com", "10.0.0.0/33", "10.0.0/8", "::1/129", "1.2.3.4/8/9"]) {
      expect(() => loadConfig({ HTTP_TRUSTED_PROXIES: `loopback,${bad}` })).toThrow(`HTTP_TRUSTED_PROXIES: each entry must be loopback, linklocal, uniquelocal, an IP address or a range like 10.0.0.0/8; '${bad}' is not`);
    }
  });
});

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
