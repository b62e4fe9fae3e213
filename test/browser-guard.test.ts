/**
 * Without API_TOKEN the agent answers loopback requests — and a web page in the user's own
 * browser can send those: one of another site (a cross-site "simple" POST needs no preflight), or
 * one whose name was pointed at 127.0.0.1 (DNS rebinding: it then talks to the agent as its own
 * origin). Requests go out through node:http here so the Host header can be set as such a page's
 * would be; the last test has a real browser do it.
 */
import { existsSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { chromium } from "playwright-core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig, ConfigError } from "../src/config.js";
import { createApp, listen } from "../src/http/server.js";
import { silentLogger } from "../src/logger.js";
import { TaskStore } from "../src/store/task-store.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import { testManager } from "./support/manager.js";
import { waitFor } from "./support/process.js";
import { servicesRequired } from "./support/stores.js";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`\n*** ${CHROMIUM} not found: the cross-site browser test is SKIPPED (apt-get install chromium).${servicesRequired ? " REQUIRE_TEST_SERVICES=1: this is a failure." : ""}\n`);

const TOKEN = "guard-token-0123456789abcdef";
const ECHO_TASK = { type: "cli", title: "from a page", command: "echo", args: ["hi"] };

interface Answer {
  status: number;
  body: { error?: string; message?: string } & Record<string, unknown>;
}

/** One request to port on 127.0.0.1, with whatever headers a page (or its browser) would send. */
function send(port: number, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = request({ host: "127.0.0.1", port, method, path, headers: { ...(text ? { "Content-Type": "application/json" } : {}), ...headers } }, (res) => {
      let data = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (data += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: data ? (JSON.parse(data) as Answer["body"]) : {} }));
    });
    req.on("error", reject);
    req.end(text);
  });
}

describe("requests from web pages, without API_TOKEN", () => {
  let store: TaskStore;
  let manager: TaskManager;
  let server: Server;
  let port: number;

  const serve = async (options: { apiToken?: string; allowedHosts?: string[] } = {}) => {
    ({ server } = await listen(createApp({ manager, metrics: manager.metrics!, logger: silentLogger(), ...options }), "127.0.0.1", 0, options.apiToken));
    port = (server.address() as AddressInfo).port;
  };
  const pauses = async () => (await manager.store.db.query<{ n: number }>("SELECT count(*)::int AS n FROM ph_queue_pauses")).rows[0]?.n;

  beforeEach(async () => {
    store = await TaskStore.open({});
    manager = testManager(store);
  });
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await manager.stop(0);
    await store.close();
  });

  it("answers loopback names, and refuses another name — reading or changing — storing nothing", async () => {
    await serve();
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, "LOCALHOST"]) {
      expect((await send(port, "GET", "/api/tasks", { Host: host })).status, host).toBe(200);
    }
    const read = await send(port, "GET", "/api/tasks", { Host: `evil.example:${port}` });
    expect(read.status).toBe(403);
    expect(read.body.error).toBe("forbidden_host");
    expect(read.body.message).toContain(`"evil.example:${port}"`);
    expect(read.body.message).toContain("HTTP_ALLOWED_HOSTS");
    const create = await send(port, "POST", "/api/tasks", { Host: `evil.example:${port}`, Origin: `http://evil.example:${port}` }, ECHO_TASK);
    expect(create.status).toBe(403);
    expect(create.body.error).toBe("forbidden_host");
    expect((await manager.listTasks({ limit: 10, offset: 0 })).tasks).toHaveLength(0);
    // The page itself (the dashboard's files) is not served under that name either.
    expect((await send(port, "GET", "/", { Host: `evil.example:${port}` })).status).toBe(403);
    // Health checks pass whatever the name.
    expect((await send(port, "GET", "/healthz", { Host: "probe.internal" })).status).toBe(200);
  });

  it("answers the names in HTTP_ALLOWED_HOSTS, which takes host names only", async () => {
    const config = loadConfig({ HTTP_ALLOWED_HOSTS: "agent.local, Build-Box" });
    expect(config.HTTP_ALLOWED_HOSTS).toEqual(["agent.local", "Build-Box"]);
    await serve({ allowedHosts: config.HTTP_ALLOWED_HOSTS });
    expect((await send(port, "POST", "/api/tasks", { Host: `agent.local:${port}` }, ECHO_TASK)).status).toBe(201);
    expect((await send(port, "GET", "/api/tasks", { Host: "build-box" })).status).toBe(200);
    expect((await send(port, "GET", "/api/tasks", { Host: "other.local" })).status).toBe(403);

    let error: unknown;
    try {
      loadConfig({ HTTP_ALLOWED_HOSTS: "agent.local,http://x.example:80/" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).errors).toEqual([expect.objectContaining({ field: "HTTP_ALLOWED_HOSTS", message: expect.stringContaining("host name") })]);
  });

  it("refuses a change another site's page asks for, and lets the agent's own page, the CLI and reads through", async () => {
    await serve();
    const own = `http://127.0.0.1:${port}`;
    // A "simple" cross-site POST: no preflight, so the browser sends it whatever the answer.
    const pause = await send(port, "POST", "/api/queue/pause", { Host: `127.0.0.1:${port}`, Origin: "https://evil.example", "Content-Type": "text/plain" });
    expect(pause.status).toBe(403);
    expect(pause.body.error).toBe("forbidden_origin");
    expect(pause.body.message).toContain("https://evil.example");
    expect(pause.body.message).toContain(own.replace("http://", ""));
    // A page of another port on this machine is another origin too; so is a sandboxed one ("null").
    for (const origin of ["http://127.0.0.1:1", "null"]) {
      expect((await send(port, "POST", "/api/tasks/cancel", { Host: `127.0.0.1:${port}`, Origin: origin })).status, origin).toBe(403);
    }
    // A browser that says cross-site without an Origin is believed.
    expect((await send(port, "POST", "/api/queue/pause", { Host: `127.0.0.1:${port}`, "Sec-Fetch-Site": "cross-site" })).status).toBe(403);
    expect(await pauses()).toBe(0);

    // Reading with another origin is answered: the browser does not let that page see it (no CORS).
    expect((await send(port, "GET", "/api/tasks", { Host: `127.0.0.1:${port}`, Origin: "https://evil.example" })).status).toBe(200);
    // The dashboard's own request, and one with no Origin at all (ph-tasks, curl, MCP clients).
    expect((await send(port, "POST", "/api/queue/pause", { Host: `127.0.0.1:${port}`, Origin: own, "Sec-Fetch-Site": "same-origin" })).status).toBe(200);
    expect((await send(port, "POST", "/api/queue/resume", { Host: `127.0.0.1:${port}` })).status).toBe(200);
    expect(await pauses()).toBe(0);
  });

  it("with API_TOKEN checks neither: the token is what a page cannot send (a proxy may rewrite Host)", async () => {
    await serve({ apiToken: TOKEN });
    const answer = await send(port, "POST", "/api/tasks", { Host: "tasks.example.com", Origin: "https://dashboards.example.com", Authorization: `Bearer ${TOKEN}` }, ECHO_TASK);
    expect(answer.status).toBe(201);
    expect((await send(port, "POST", "/api/tasks", { Host: "tasks.example.com" }, ECHO_TASK)).status).toBe(401);
  });

  it.skipIf(!hasChromium)("a real page of another origin cannot pause the queue or start a task; the agent's own page can", async () => {
    await serve();
    const agent = `http://127.0.0.1:${port}`;
    // The attacker's page: served from another port of this machine, so another origin.
    const attacker = createServer((_req, res) => {
      res.setHeader("Content-Type", "text/html");
      res.end(`<!doctype html><script>
        const base = ${JSON.stringify(agent)};
        Promise.all([
          fetch(base + "/api/queue/pause", { method: "POST", mode: "no-cors", body: "x" }),
          fetch(base + "/api/tasks", { method: "POST", mode: "no-cors", headers: { "Content-Type": "text/plain" }, body: ${JSON.stringify(JSON.stringify(ECHO_TASK))} }),
        ]).then(() => { document.title = "sent"; }, (e) => { document.title = "error " + e; });
      </script>`);
    });
    await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.1", resolve));
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
    try {
      const page = await browser.newPage();
      const refused: number[] = [];
      page.on("response", (response) => {
        if (response.url().startsWith(agent)) refused.push(response.status());
      });
      await page.goto(`http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`);
      await waitFor(async () => (await page.title()) === "sent", 10_000);
      await waitFor(() => refused.length === 2, 5_000);
      expect(refused).toEqual([403, 403]);
      expect(await pauses()).toBe(0);
      expect((await manager.listTasks({ limit: 10, offset: 0 })).tasks).toHaveLength(0);

      // Nor may it frame the dashboard (clickjacking: a framed dashboard is the agent's own origin).
      await page.setContent(`<iframe id="framed" src="${agent}/"></iframe>`);
      await page.waitForTimeout(1500);
      const framed = page.frames().find((f) => f !== page.mainFrame());
      expect(framed ? await framed.locator("#submit-form").count() : 0).toBe(0);

      // The dashboard, from the agent's own origin, still acts: its form starts a task — and
      // nothing on it breaks its own Content-Security-Policy (no inline script or style).
      const violations: string[] = [];
      page.on("console", (message) => {
        if (message.text().includes("Content Security Policy")) violations.push(message.text());
      });
      await page.goto(`${agent}/#/`);
      await page.locator("#chart-throughput").waitFor();
      expect(await page.locator("i").first().evaluate((el) => getComputedStyle(el).backgroundColor)).not.toBe("rgba(0, 0, 0, 0)");
      await page.locator("#submit-form input[name=command]").fill("echo");
      await page.locator("#submit-form textarea[name=args]").fill("own-page");
      await page.locator("#submit-form button[type=submit]").click();
      await page.waitForURL(/#\/tasks\//);
      const tasks = (await manager.listTasks({ limit: 10, offset: 0 })).tasks;
      expect(tasks.map((t) => t.title)).toEqual(["echo own-page"]);
      expect(violations).toEqual([]);
    } finally {
      await browser.close();
      attacker.closeAllConnections();
      await new Promise((resolve) => attacker.close(resolve));
    }
  });
});
