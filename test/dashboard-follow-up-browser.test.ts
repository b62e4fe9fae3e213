/**
 * A Claude task's conversation on the dashboard, in a real browser (Debian's chromium,
 * playwright-core), on the real claude binary against the Messages-API stand-in: an ended Claude
 * task whose conversation was kept shows its turns and offers "Follow up"; the prompt typed there
 * becomes the next turn of that conversation (the model is sent both), the follow-up's page opens,
 * shows the whole conversation and links back to the task it continues; an empty prompt is refused
 * in the form; a CLI task shows none; the read-only token sees the turns but no form.
 */
import { mkdirSync, mkdtempSync, realpathSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createApp, listen } from "../src/http/server.js";
import { silentLogger } from "../src/logger.js";
import { TaskStore } from "../src/store/task-store.js";
import { CliExecutor } from "../src/tasks/executors/cli-executor.js";
import { ExecutorRegistry } from "../src/tasks/executors/registry.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import { startStandIn, type StandIn } from "./support/anthropic-stand-in.js";
import { ARTIFACTS, closeDashboard, dashboardPage, describeInChromium, launchChromium } from "./support/browser.js";
import { claudeCodeHarness } from "./support/claude-code-harness.js";
import { testManager } from "./support/manager.js";
import { waitFor } from "./support/process.js";

const TOKEN = "follow-up-token-0123456789";
const READ_TOKEN = "follow-up-read-token-0123456789";
const root = realpathSync(mkdtempSync(path.join(tmpdir(), "ph-follow-up-browser-")));
const project = path.join(root, "project");
mkdirSync(project);

describeInChromium("the dashboard's Follow up", () => {
  let standIn: StandIn;
  let store: TaskStore;
  let manager: TaskManager;
  let server: Server;
  let base: string;
  let browser: Browser;
  let page: Page;

  const ended = (id: string) =>
    waitFor(async () => {
      const task = await manager.getTask(id);
      return task && ["completed", "failed", "cancelled"].includes(task.status) ? task : undefined;
    }, 60_000, `task ${id} to end`);
  const openTask = async (id: string) => {
    await page.goto(`${base}/?load=${Date.now()}#/tasks/${id}`);
    await page.locator("#task-details").waitFor();
  };

  beforeAll(async () => {
    standIn = await startStandIn();
    store = await TaskStore.open({});
    const { executor } = claudeCodeHarness(() => standIn, root);
    const registry = new ExecutorRegistry().register(executor()).register(new CliExecutor({ allowedRoots: [root], killGraceMs: 300, captureBytes: 64 * 1024 }));
    manager = testManager(store, { maxConcurrent: 2 }, registry);
    await manager.start();
    ({ server, url: base } = await listen(createApp({ manager, metrics: manager.metrics!, logger: silentLogger(), apiToken: TOKEN, readToken: READ_TOKEN }), "127.0.0.1", 0, TOKEN));
    browser = await launchChromium();
    page = await dashboardPage(browser, base, TOKEN);
  });

  afterAll(async () => {
    await closeDashboard({ browser, server, manager, store });
    await standIn.close();
  });

  it("an ended Claude task offers Follow up: the typed prompt continues its conversation, and the follow-up links back", async () => {
    standIn.enqueue({ kind: "text", text: "Noted: KIWI-3." });
    const { task: first } = await manager.enqueueTask({ type: "claude-code", title: "Codeword", prompt: "Remember the codeword KIWI-3.", projectPath: project });
    expect((await ended(first.id)).status).toBe("completed");
    await openTask(first.id);
    await page.locator("#follow-up-section").waitFor({ state: "visible" });
    await page.locator("#conversation .turn").nth(1).waitFor();
    expect(await page.locator('#conversation .turn[data-role="user"]').first().textContent()).toContain("Remember the codeword KIWI-3.");
    expect(await page.locator('#conversation .turn[data-role="assistant"]').first().textContent()).toContain("Noted: KIWI-3.");

    // An empty prompt: the API's refusal in the form, nothing made.
    await page.locator("#follow-up-form button").click();
    await page.locator("#follow-up-error").filter({ hasText: "prompt" }).waitFor();
    expect(await page.locator("#follow-up-error").textContent()).toBe("prompt: must not be empty");
    expect((await manager.listTasks({ limit: 10, offset: 0 })).total).toBe(1);

    standIn.enqueue({ kind: "text", text: "It was KIWI-3." });
    const before = standIn.requests.length;
    await page.locator("#follow-up-prompt").fill("Which codeword did I give you?");
    await page.locator("#follow-up-form button").click();
    await page.waitForFunction((id) => location.hash.startsWith("#/tasks/") && !location.hash.endsWith(id), first.id);
    const followId = decodeURIComponent((await page.evaluate(() => location.hash)).slice("#/tasks/".length));
    await page.locator("#task-details a.continues").waitFor();
    expect(await page.locator("#task-details a.continues").textContent()).toBe(first.id);
    expect((await ended(followId)).status).toBe("completed");
    await page.locator('#task-details [data-status="completed"]').waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, "dashboard-follow-up.png"), fullPage: true });
    expect(standIn.userText(standIn.requests[before]!)).toContain("Remember the codeword KIWI-3.");
    expect(standIn.userText(standIn.requests[before]!)).toContain("Which codeword did I give you?");
    // The follow-up, ended with its own conversation kept, shows all of it and may be followed up in turn; the link leads back.
    await page.locator("#follow-up-section").waitFor({ state: "visible" });
    await page.locator("#conversation .turn").nth(3).waitFor();
    expect(await page.locator("#conversation .turn").allTextContents()).toEqual([
      expect.stringContaining("Remember the codeword KIWI-3."), expect.stringContaining("Noted: KIWI-3."),
      expect.stringContaining("Which codeword did I give you?"), expect.stringContaining("It was KIWI-3."),
    ]);
    await page.locator("#task-details a.continues").click();
    await page.waitForFunction((id) => location.hash === `#/tasks/${id}`, first.id);
  });

  it("a CLI task has no conversation; the read-only token sees the turns but no Follow up", async () => {
    const { task: cli } = await manager.enqueueTask({ type: "cli", title: "echo", command: "echo", args: ["hi"], workingDirectory: root });
    expect((await ended(cli.id)).status).toBe("completed");
    await openTask(cli.id);
    await page.locator('#task-details [data-status="completed"]').waitFor();
    expect(await page.locator("#conversation-section").isVisible()).toBe(false);

    standIn.enqueue({ kind: "text", text: "ok" });
    const { task: claude } = await manager.enqueueTask({ type: "claude-code", title: "c", prompt: "hello", projectPath: project });
    expect((await ended(claude.id)).status).toBe("completed");
    await page.evaluate((token) => localStorage.setItem("ph-tasks-token", token), READ_TOKEN);
    try {
      await openTask(claude.id);
      await page.locator("body.read-only").waitFor();
      await page.locator("#conversation .turn").nth(1).waitFor(); // the turns, as its output
      expect(await page.locator("#follow-up-section").isVisible()).toBe(false);
    } finally {
      await page.evaluate((token) => localStorage.setItem("ph-tasks-token", token), TOKEN);
    }
  });
});
