/**
 * The dashboard in a real browser: Debian's chromium driven by playwright-core. Screenshots land
 * in test-artifacts/. Without chromium the test says so and skips — unless the run requires its
 * services (REQUIRE_TEST_SERVICES=1, as CI sets after installing chromium), where that fails.
 */
import { existsSync, mkdirSync } from "node:fs";
import type { Server } from "node:http";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, listen } from "../src/http/server.js";
import { silentLogger } from "../src/logger.js";
import { TaskStore } from "../src/store/task-store.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import { testManager } from "./support/manager.js";
import { servicesRequired } from "./support/stores.js";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`\n*** ${CHROMIUM} not found: the dashboard browser test is SKIPPED (apt-get install chromium).${servicesRequired ? " REQUIRE_TEST_SERVICES=1: this is a failure." : ""}\n`);

const TOKEN = "browser-token-0123456789";
const ARTIFACTS = path.resolve("test-artifacts");

describe("dashboard", () => {
  it("has a browser to run in when the run requires it", () => {
    if (servicesRequired) expect(hasChromium, `${CHROMIUM} is required by this run`).toBe(true);
    else expect(typeof hasChromium).toBe("boolean");
  });
});

describe.skipIf(!hasChromium)("dashboard in headless Chromium", () => {
  let store: TaskStore;
  let manager: TaskManager;
  let server: Server;
  let base: string;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    store = await TaskStore.open({});
    manager = testManager(store, { maxConcurrent: 4, maxPerDocument: 10 });
    await manager.start();
    ({ server, url: base } = await listen(createApp({ manager, metrics: manager.metrics!, logger: silentLogger(), apiToken: TOKEN }), "127.0.0.1", 0, TOKEN));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });

  afterAll(async () => {
    await browser?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await manager?.stop(0);
    await store?.close();
  });

  /** A fresh load of the overview (a new query string forces it; a hash change would not). */
  const openOverview = async () => {
    await page.goto(`${base}/?load=${Date.now()}#/`);
    await page.locator("#submit-form").waitFor();
  };

  it("asks for the token, then shows the overview", async () => {
    await page.goto(`${base}/`);
    await page.locator("#token-input").fill(TOKEN);
    await page.locator("#token-form button").click();
    await page.locator("#submit-form").waitFor();
    expect(await page.locator("#stat-completed .value").textContent()).toBe("0");
  });

  it("submits echo through the form and shows it completed with its output", async () => {
    await page.locator("#submit-form input[name=command]").fill("echo");
    await page.locator("#submit-form textarea[name=args]").fill("hello-browser");
    await page.locator("#submit-form button[type=submit]").click();
    await page.waitForURL(/#\/tasks\//);
    await page.locator('#task-details [data-status="completed"]').waitFor({ timeout: 20_000 });
    await page.locator("#output", { hasText: "hello-browser" }).waitFor({ timeout: 10_000 });
    expect(await page.locator("#retry").isDisabled()).toBe(true);
    await page.screenshot({ path: path.join(ARTIFACTS, "dashboard-task.png"), fullPage: true });
  });

  it("shows field errors from the API next to the form", async () => {
    await openOverview();
    await page.locator("#submit-form input[name=command]").fill("echo");
    await page.locator("#submit-form input[name=workingDirectory]").fill("x".repeat(5000));
    await page.locator("#submit-form button[type=submit]").click();
    await page.locator("#submit-error", { hasText: "workingDirectory" }).waitFor();
  });

  it("cancels a running sleep from its page", async () => {
    await openOverview();
    await page.locator("#submit-form input[name=command]").fill("sleep");
    await page.locator("#submit-form textarea[name=args]").fill("30");
    await page.locator("#submit-form button[type=submit]").click();
    await page.waitForURL(/#\/tasks\//);
    await page.locator('#task-details [data-status="running"]').waitFor({ timeout: 10_000 });
    await page.locator("#cancel").click();
    await page.locator('#task-details [data-status="cancelled"]').waitFor({ timeout: 10_000 });
    expect(await page.locator("#retry").isEnabled()).toBe(true);
  });

  it("lists the tasks with their statuses and escapes a hostile title", async () => {
    await manager.enqueueTask({ type: "cli", title: '<img src=x onerror="document.body.dataset.pwned=1">', command: "true" });
    await openOverview();
    await page.locator("#recent").waitFor();
    await page.locator("#stat-completed .value", { hasText: /^[1-9]/ }).waitFor({ timeout: 10_000 });
    const statuses = await page.locator("#recent [data-status]").allTextContents();
    expect(statuses).toContain("completed");
    expect(statuses).toContain("cancelled");
    expect(await page.locator("#recent").textContent()).toContain("<img src=x");
    expect(await page.evaluate(() => document.body.dataset.pwned)).toBeUndefined();
    await page.screenshot({ path: path.join(ARTIFACTS, "dashboard.png"), fullPage: true });
  });
});
