/**
 * The tasks one person asked for (migration 046): GET /api/tasks?by=alice lists only what alice's
 * named token asked for (newest first, counted), `ph-tasks list --by` the same, the bulk actions
 * act on hers alone (`cancel --all --by alice`), and the dashboard's filter has "asked by". A name
 * no one has lists nothing. On PGlite and PostgreSQL (the list's SQL and its partial index), and
 * in chromium.
 */
import type { Server } from "node:http";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createApp, listen } from "../src/http/server.js";
import { silentLogger } from "../src/logger.js";
import type { TaskStore } from "../src/store/task-store.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import { closeDashboard, dashboardPage, describeInChromium, launchChromium } from "./support/browser.js";
import { testManager } from "./support/manager.js";
import { phTasks } from "./support/ph-tasks-cli.js";
import { BACKENDS } from "./support/stores.js";

const ADMIN = "by-person-admin-token-0123456789";
const ALICE = "by-person-alice-token-012345678";
const BOB = "by-person-bob-token-0123456789a";
const users = [{ name: "alice", token: ALICE }, { name: "bob", token: BOB }];

interface Listed { tasks: { id: string; title: string; status: string; source?: { by?: string } }[]; total: number }

/** An agent's HTTP API over `store` with alice's and bob's named tokens, its queue paused (what is asked for waits). */
async function serve(store: TaskStore): Promise<{ manager: TaskManager; server: Server; base: string; call: (token: string, method: string, route: string, body?: unknown) => Promise<{ status: number; json: unknown }> }> {
  const manager = testManager(store, {});
  await manager.start();
  const { server, url: base } = await listen(createApp({ manager, metrics: manager.metrics!, logger: silentLogger(), apiToken: ADMIN, users }), "127.0.0.1", 0, ADMIN);
  const call = async (token: string, method: string, route: string, body?: unknown) => {
    const res = await fetch(`${base}${route}`, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, json: (await res.json()) as unknown };
  };
  expect((await call(ADMIN, "POST", "/api/queue/pause", { reason: "listing" })).status).toBe(200);
  for (const [token, title] of [[ALICE, "alice's first"], [BOB, "bob's"], [ADMIN, "the admin's"], [ALICE, "alice's second"]] as const) {
    expect((await call(token, "POST", "/api/tasks", { type: "cli", title, command: "true" })).status).toBe(201);
  }
  return { manager, server, base, call };
}

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`the tasks one person asked for, on ${backend.name}`, () => {
    let stop: () => Promise<void> = () => Promise.resolve();
    afterEach(() => stop());

    it("lists only hers, newest first; the CLI the same; a bulk cancel takes hers alone", async () => {
      const { store, cleanup } = await backend.open();
      const { manager, server, base, call } = await serve(store);
      stop = async () => {
        await new Promise((resolve) => server.close(resolve));
        await manager.stop(0);
        await cleanup();
      };
      const hers = (await call(ADMIN, "GET", "/api/tasks?by=alice")).json as Listed;
      expect(hers.tasks.map((t) => [t.title, t.source?.by])).toEqual([["alice's second", "alice"], ["alice's first", "alice"]]);
      expect(hers.total).toBe(2);
      expect(((await call(BOB, "GET", "/api/tasks?by=nobody-here")).json as Listed).tasks).toEqual([]);
      const env = { PH_TASKS_URL: base, API_TOKEN: ADMIN };
      const listed = await phTasks(["list", "--by", "bob", "--json"], env);
      expect(((JSON.parse(listed.stdout) as Listed).tasks).map((t) => t.title)).toEqual(["bob's"]);

      const cancelled = await phTasks(["cancel", "--all", "--by", "alice", "--json"], env);
      expect(cancelled.status).toBe(0);
      expect((JSON.parse(cancelled.stdout) as { cancelled: string[] }).cancelled).toHaveLength(2);
      const all = (await call(ADMIN, "GET", "/api/tasks")).json as Listed;
      expect(all.tasks.map((t) => [t.title, t.status])).toEqual([["alice's second", "cancelled"], ["the admin's", "pending"], ["bob's", "pending"], ["alice's first", "cancelled"]]);
      expect((await call(ADMIN, "GET", `/api/tasks?by=${"x".repeat(201)}`)).status).toBe(400);
    });
  });
}

describeInChromium("the dashboard's filter: asked by", () => {
  const backend = BACKENDS[0];
  let parts: Awaited<ReturnType<typeof serve>> & { store: TaskStore; cleanup: () => Promise<void> };
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    if (!backend) throw new Error("no test backend");
    const { store, cleanup } = await backend.open();
    parts = { ...(await serve(store)), store, cleanup };
    browser = await launchChromium();
    page = await dashboardPage(browser, parts.base, ADMIN);
  });
  afterAll(async () => {
    await closeDashboard({ browser, server: parts.server, manager: parts.manager });
    await parts.cleanup();
  });

  it("shows only the tasks alice asked for, and clears back", async () => {
    await page.goto(`${parts.base}/#/`);
    await page.locator("#recent-section h2", { hasText: "Recent tasks (4)" }).waitFor();
    await page.locator("#recent-filter input[name=by]").fill("alice");
    await page.locator("#recent-filter input[name=by]").press("Enter");
    await page.locator("#recent-section h2", { hasText: "Matching tasks (2)" }).waitFor();
    expect(await page.locator("#recent .title a:not(.tag)").allTextContents()).toEqual(["alice's second", "alice's first"]);
    await page.locator("#recent-filter input[name=by]").fill("");
    await page.locator("#recent-filter input[name=by]").press("Enter");
    await page.locator("#recent-section h2", { hasText: "Recent tasks (4)" }).waitFor();
  });
});
