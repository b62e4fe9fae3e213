/**
 * The dashboard in a real browser: Debian's chromium driven by playwright-core. Screenshots land
 * in test-artifacts/. Without chromium the test says so and skips — unless the run requires its
 * services (REQUIRE_TEST_SERVICES=1, as CI sets after installing chromium), where that fails.
 */
import type { Server } from "node:http";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createApp, listen } from "../src/http/server.js";
import { AuditLog } from "../src/audit/audit-log.js";
import { AuditStore } from "../src/store/audit-store.js";
import { silentLogger } from "../src/logger.js";
import { ScheduleService } from "../src/schedules/schedule-service.js";
import { ScheduleStore } from "../src/store/schedule-store.js";
import { TypeConcurrencyStore } from "../src/store/type-concurrency-store.js";
import { WebhookStore } from "../src/store/webhook-store.js";
import { HookReceiver, signBody } from "../src/hooks/hook-receiver.js";
import { HookService } from "../src/hooks/hook-service.js";
import { HookStore } from "../src/store/hook-store.js";
import { WebhookSender } from "../src/webhooks/webhook-sender.js";
import { WebhookService } from "../src/webhooks/webhook-service.js";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { TaskStore } from "../src/store/task-store.js";
import { RateLimitStore } from "../src/store/rate-limit-store.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import { ApprovalExecutor } from "../src/tasks/executors/approval-executor.js";
import { CliExecutor } from "../src/tasks/executors/cli-executor.js";
import { ExecutorRegistry } from "../src/tasks/executors/registry.js";
import { removeTestCgroupRoot, testCgroupRoot } from "./support/cgroup.js";
import { testManager } from "./support/manager.js";
import { waitFor } from "./support/process.js";
import { ARTIFACTS, closeDashboard, describeInChromium, launchChromium } from "./support/browser.js";

const TOKEN = "browser-token-0123456789";
const READ_TOKEN = "browser-read-token-0123456789";
const ALICE_TOKEN = "browser-alice-token-0123456789";

describeInChromium("the dashboard", () => {
  let store: TaskStore;
  let manager: TaskManager;
  let schedules: ScheduleService;
  let webhooks: WebhookService;
  let hooks: HookService;
  let sender: WebhookSender;
  let webhookStore: WebhookStore;
  let server: Server;
  let base: string;
  let browser: Browser;
  let page: Page;
  let audit: AuditLog;

  beforeAll(async () => {
    store = await TaskStore.open({});
    // A cgroup per run where the machine has one (CI does): the task page shows a run's CPU.
    const registry = new ExecutorRegistry()
      .register(new CliExecutor({ allowedRoots: [process.cwd(), "/tmp"], killGraceMs: 300, captureBytes: 256 * 1024, ...(testCgroupRoot ? { cgroupRoot: testCgroupRoot } : {}) }))
      .register(new ApprovalExecutor(["alice"]));
    // A daily budget for the Spend card (TASK_BUDGET_USD_PER_DAY): it holds only types whose runs cost money, none here.
    manager = testManager(store, { maxConcurrent: 4, maxPerDocument: 10, budgetUsdPerDay: 5, budgetUsdPerDrivePerDay: 2 }, registry);
    await manager.start();
    schedules = new ScheduleService(new ScheduleStore(store.db), manager.registry);
    webhookStore = new WebhookStore(store.db);
    sender = new WebhookSender({ store: webhookStore, workerId: manager.workerId, pollMs: 200, timeoutMs: 2000, maxAttempts: 1, retry: { baseMs: 50, maxMs: 100 }, retentionMs: 86_400_000, logger: silentLogger() });
    webhooks = new WebhookService(webhookStore, () => sender.wake());
    sender.start();
    const hookStore = new HookStore(store.db);
    hooks = new HookService(hookStore, manager.registry);
    const receiver = new HookReceiver(hookStore, (input, origin) => manager.enqueueTask({ ...(input as object), source: { origin } }), silentLogger());
    const auditStore = new AuditStore(store.db);
    audit = new AuditLog(auditStore, manager.workerId, silentLogger(), 86_400_000);
    ({ server, url: base } = await listen(createApp({ manager, metrics: manager.metrics!, logger: silentLogger(), apiToken: TOKEN, readToken: READ_TOKEN, users: [{ name: "alice", token: ALICE_TOKEN }], schedules, webhooks, hooks: { service: hooks, receiver }, audit: { log: audit, store: auditStore } }), "127.0.0.1", 0, TOKEN));
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });

  afterAll(async () => {
    await audit?.stop();
    await sender?.stop();
    removeTestCgroupRoot();
    await closeDashboard({ browser, server, manager, store });
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

  it("shows the API's field errors next to the field they are about", async () => {
    await openOverview();
    await page.locator("#submit-form input[name=command]").fill("echo");
    await page.locator("#submit-form input[name=workingDirectory]").fill("x".repeat(5000));
    await page.locator("#submit-form button[type=submit]").click();
    await page.locator("#error-workingDirectory").filter({ hasText: /\S/ }).waitFor();
    expect(await page.locator("#error-command").textContent()).toBe("");
    expect(page.url()).not.toMatch(/#\/tasks\//);
    // A directory the policy refuses (admission): said under the field, before anything runs.
    await page.locator("#submit-form input[name=workingDirectory]").fill("/etc");
    await page.locator("#submit-form button[type=submit]").click();
    await page.locator("#error-workingDirectory").filter({ hasText: "outside the allowed roots" }).waitFor();
    expect(page.url()).not.toMatch(/#\/tasks\//);
  });

  it("shows a running sleep under Running now, cancels it, retries it and cancels it again", async () => {
    await openOverview();
    await page.locator("#submit-form input[name=command]").fill("sleep");
    await page.locator("#submit-form textarea[name=args]").fill("30");
    await page.locator("#submit-form button[type=submit]").click();
    await page.waitForURL(/#\/tasks\//);
    const taskUrl = page.url();
    await page.locator('#task-details [data-status="running"]').waitFor({ timeout: 10_000 });
    await page.locator('#attempts tr[data-outcome="running"]').waitFor({ timeout: 10_000 });

    // The overview, reached through the page's own link, lists it as running.
    await page.locator(".back a").click();
    await page.locator("#running-tasks", { hasText: "sleep 30" }).waitFor({ timeout: 10_000 });
    expect(await page.locator("#stat-running .value").textContent()).toBe("1");
    expect(await page.locator("#stat-running .note").textContent()).toBe("1 on this worker");
    await page.locator("#running-tasks a", { hasText: "sleep 30" }).click();
    await page.waitForURL(taskUrl);

    await page.locator("#cancel").click();
    await page.locator('#task-details [data-status="cancelled"]').waitFor({ timeout: 10_000 });
    expect(await page.locator("#cancel").isDisabled()).toBe(true);
    await page.locator("#retry").click();
    await page.locator('#task-details [data-status="running"]').waitFor({ timeout: 10_000 });
    await page.locator("#output .marker", { hasText: "retried" }).waitFor();
    await page.locator("#cancel").click();
    await page.locator('#task-details [data-status="cancelled"]').waitFor({ timeout: 10_000 });
    expect(await page.locator("#retry").isEnabled()).toBe(true);
    expect(await page.locator("#task-details").textContent()).toContain("process group killed");
    // Both runs in the attempts card (a retry by hand starts the count again), each cancelled with why.
    await page.locator("#attempts tbody tr").nth(1).waitFor({ timeout: 10_000 });
    await waitFor(async () => ((await page.locator("#attempts tbody tr").evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.outcome))).join() === "cancelled,cancelled" ? true : undefined), 10_000, "two cancelled attempts");
    expect(await page.locator("#attempts tbody tr td:first-child").allTextContents()).toEqual(["1", "1"]);
    expect(await page.locator("#attempts").textContent()).toContain("cancelled: cancelled through the API: stopped (cancel); process group killed");
  });

  it("resumes live output after the connection drops, without losing or repeating a line", async () => {
    await openOverview();
    await page.locator("#submit-form input[name=command]").fill("sh");
    await page.locator("#submit-form textarea[name=args]").fill("-c\nfor i in 1 2 3 4 5 6 7 8; do echo line-$i; sleep 0.4; done");
    await page.locator("#submit-form input[name=title]").fill("eight lines");
    await page.locator("#submit-form button[type=submit]").click();
    await page.waitForURL(/#\/tasks\//);
    await page.locator("#output", { hasText: "line-2" }).waitFor({ timeout: 15_000 });
    // Drop every connection, the event stream's included; the page must reconnect by itself.
    server.closeAllConnections();
    await page.locator('#task-details [data-status="completed"]').waitFor({ timeout: 20_000 });
    await page.locator("#output", { hasText: "line-8" }).waitFor({ timeout: 10_000 });
    expect(await page.locator("#output").textContent()).toBe([1, 2, 3, 4, 5, 6, 7, 8].map((i) => `line-${i}\n`).join(""));
  });

  it("shows the counts, the charts and the recent tasks, and escapes a hostile title", async () => {
    await manager.enqueueTask({ type: "cli", title: '<img src=x onerror="document.body.dataset.pwned=1">', command: "true" });
    await manager.enqueueTask({ type: "cli", title: "this one fails", command: "false", maxAttempts: 1, tags: ["release-42", "team:docs"] });
    await openOverview();
    // echo, the hostile `true` and the eight lines completed; `false` failed; the sleep was cancelled.
    await page.locator("#stat-completed .value", { hasText: /^3$/ }).waitFor({ timeout: 15_000 });
    await page.locator("#stat-failed .value", { hasText: /^1$/ }).waitFor({ timeout: 15_000 });
    expect(await page.locator("#stat-cancelled .value").textContent()).toBe("1");
    expect(await page.locator("#stat-pending .value").textContent()).toBe("0");
    expect(await page.locator("#stat-running .value").textContent()).toBe("0");
    expect(await page.locator("#running-section").textContent()).toContain("Nothing is running");
    expect(await page.locator("#failure-rate").textContent()).toContain("25 % of 4");
    expect(await page.locator("#chart-throughput rect").count()).toBeGreaterThanOrEqual(1);
    expect(await page.locator("#chart-failure-rate circle").count()).toBeGreaterThanOrEqual(1);
    // Per type: 3 completed and 1 failed cli tasks in the last hour; the other types listed at zero.
    const cliRow = page.locator('#type-stats tr[data-type="cli"] td');
    expect((await cliRow.allTextContents()).slice(0, 6)).toEqual(["cli", "0", "0", "3", "1", "25 %"]);
    expect(await cliRow.nth(6).textContent()).toMatch(/^\d+\.\d s$/);
    expect(await page.locator("#stat-completed .note").textContent()).toBe("last hour");
    // Why the failed one failed, linked to it.
    expect((await page.locator('#failures tr[data-code="exit_code"] td').allTextContents()).slice(0, 3)).toEqual(["cli", "exit_code", "1"]);
    expect(await page.locator('#failures tr[data-code="exit_code"] a').getAttribute("href")).toMatch(/^#\/tasks\/.+/);
    // The workers: this agent's, running; another one lost (not heard from for longer than its lease).
    await store.db.query(`INSERT INTO ph_workers (worker_id, host, pid, version, state, max_concurrent, prefetch, lease_ms, types, started_at, last_seen_at)
                          VALUES ('gone-worker', 'elsewhere', 42, '0.0.9', 'running', 2, 0, 1000, '{cli}', now() - interval '1 hour', now() - interval '5 minutes')`);
    await page.locator("#workers-section h2", { hasText: "Workers (1, 1 lost)" }).waitFor({ timeout: 10_000 });
    const mine = page.locator(`#workers tr[data-worker="${manager.workerId}"] td`);
    expect((await mine.allTextContents()).slice(0, 3)).toEqual([`${manager.workerId} (this agent)`, "running", "0 / 4"]);
    expect((await page.locator('#workers tr[data-worker="gone-worker"] td').allTextContents()).slice(1, 6)).toEqual(["lost", "0 / 2", "0 / 0", "cli", "elsewhere:42 v0.0.9"]);
    await store.db.query("DELETE FROM ph_workers WHERE worker_id = 'gone-worker'");
    // Drain this agent's worker from the card, then resume it.
    await page.locator(`#workers tr[data-worker="${manager.workerId}"] button[data-action="worker-drain"]`).click();
    await page.locator(`#workers tr[data-worker="${manager.workerId}"] td`, { hasText: /^drained$/ }).waitFor({ timeout: 10_000 });
    await page.locator(`#workers tr[data-worker="${manager.workerId}"] button[data-action="worker-resume"]`).click();
    await page.locator(`#workers tr[data-worker="${manager.workerId}"] td`, { hasText: /^running$/ }).waitFor({ timeout: 10_000 });
    await waitFor(() => (manager.claimableTypes().length === manager.registry.types().length ? true : undefined), 5000, "the worker to claim again");

    const statuses = await page.locator("#recent [data-status]").allTextContents();
    expect(statuses.sort()).toEqual(["cancelled", "completed", "completed", "completed", "failed"]);
    expect(await page.locator("#recent").textContent()).toContain("<img src=x");
    expect(await page.locator("#recent img").count()).toBe(0);
    expect(await page.evaluate(() => document.body.dataset.pwned)).toBeUndefined();
    await page.screenshot({ path: path.join(ARTIFACTS, "dashboard.png"), fullPage: true });

    // The filter: a status, then a title search; the list says it is filtered, and clears back.
    await page.locator("#recent-filter select[name=status]").selectOption("failed");
    await page.locator("#recent-section h2", { hasText: "Matching tasks (1)" }).waitFor();
    expect(await page.locator("#recent [data-status]").allTextContents()).toEqual(["failed"]);
    // "Retry these" sends the filter to POST /api/tasks/retry: the failed one runs again.
    const failedTask = (await manager.listTasks({ status: ["failed"], limit: 1, offset: 0 })).tasks[0]!;
    await page.locator('#recent-filter button[data-action="bulk-retry"]').click();
    await page.locator("#bulk-message", { hasText: "1 retried" }).waitFor();
    await waitFor(async () => { const t = await manager.getTask(failedTask.id); return t?.status === "failed" && t.updatedAt.getTime() > failedTask.updatedAt.getTime() ? true : undefined; }, 15_000, "the retried task to fail again");
    expect(await page.locator('#recent-filter button[data-action="bulk-cancel"]').count()).toBe(0);
    await page.locator("#recent-filter select[name=status]").selectOption("");
    await page.locator("#recent-filter input[name=q]").fill("ONE FAILS");
    await page.locator("#recent-filter button[type=submit]").click();
    await page.locator("#recent-section h2", { hasText: "Matching tasks (1)" }).waitFor();
    expect(await page.locator("#recent .title a:not(.tag)").allTextContents()).toEqual(["this one fails"]);
    await page.locator("#recent-filter input[name=q]").fill("no such title");
    await page.locator("#recent-filter input[name=q]").press("Enter");
    await page.locator("#recent-section", { hasText: "No task matches." }).waitFor();
    await page.locator("#recent-filter input[name=q]").fill("");
    await page.locator("#recent-filter input[name=q]").press("Enter");
    await page.locator("#recent-section h2", { hasText: "Recent tasks (5)" }).waitFor();
    // A tag: typed into the filter, or clicked on a task's page.
    await page.locator("#recent-filter input[name=tag]").fill("release-42");
    await page.locator("#recent-filter input[name=tag]").press("Enter");
    await page.locator("#recent-section h2", { hasText: "Matching tasks (1)" }).waitFor();
    expect(await page.locator("#recent .title a:not(.tag)").allTextContents()).toEqual(["this one fails"]);
    // Its tags show in the row; one clicked there filters by it at once, the form showing it.
    expect(await page.locator("#recent .title a.tag").allTextContents()).toEqual(["release-42", "team:docs"]);
    await page.locator("#recent-filter input[name=tag]").fill("");
    await page.locator("#recent-filter input[name=tag]").press("Enter");
    await page.locator("#recent-section h2", { hasText: "Recent tasks (5)" }).waitFor();
    await page.locator('#recent .title a.tag[data-tag="release-42"]').click();
    await page.locator("#recent-section h2", { hasText: "Matching tasks (1)" }).waitFor();
    expect(await page.locator("#recent-filter input[name=tag]").inputValue()).toBe("release-42");
    await page.locator("#recent .title a:not(.tag)").click();
    await page.locator("#task-details a.tag", { hasText: "team:docs" }).click();
    await page.locator("#recent-section h2", { hasText: "Matching tasks (1)" }).waitFor();
    expect(await page.locator("#recent-filter input[name=tag]").inputValue()).toBe("team:docs");
    expect(await page.locator("#recent .title a:not(.tag)").allTextContents()).toEqual(["this one fails"]);
    await page.locator("#recent-filter input[name=tag]").fill("");
    await page.locator("#recent-filter input[name=tag]").press("Enter");
    await page.locator("#recent-section h2", { hasText: "Recent tasks (5)" }).waitFor();
  });

  it("lists the schedules and pauses and resumes one", async () => {
    await schedules.create({ name: "nightly-backup", cron: "0 3 * * *", timezone: "Europe/Berlin", task: { type: "cli", title: "backup", command: "true" } });
    await openOverview();
    const row = page.locator('#schedules tr[data-schedule="nightly-backup"]');
    await row.waitFor();
    expect(await row.textContent()).toContain("0 3 * * * Europe/Berlin");
    expect(await row.locator(".badge").textContent()).toBe("active");
    await row.locator('button[data-action="pause"]').click();
    await row.locator(".badge", { hasText: "paused" }).waitFor();
    expect((await schedules.get("nightly-backup"))?.enabled).toBe(false);
    await row.locator('button[data-action="resume"]').click();
    await row.locator(".badge", { hasText: "active" }).waitFor();
    expect((await schedules.get("nightly-backup"))?.next_fire_at).not.toBeNull();
    await page.screenshot({ path: path.join(ARTIFACTS, "dashboard-schedules.png"), fullPage: true });
  });

  it("lists the inbound hooks with their URL, what they received and refused, their rate limit and signing; pauses one", async () => {
    const hook = await hooks.create({ name: "builds", task: { type: "cli", title: "build {{body.ref}}", command: "true" }, rateLimit: { max: 5, per: "1m" } });
    await hooks.create({ name: "strict", task: { type: "cli", title: "strict", command: "true" }, signing: "timestamped" });
    const body = JSON.stringify({ ref: "main" });
    const signed = await fetch(`${base}/hooks/builds`, { method: "POST", headers: { "Content-Type": "application/json", "X-Signature-256": signBody(hook.secret, body) }, body });
    expect(signed.status).toBe(202);
    expect((await fetch(`${base}/hooks/builds`, { method: "POST", headers: { "Content-Type": "application/json" }, body })).status).toBe(401);
    await openOverview();
    const row = page.locator('#hooks tr[data-hook="builds"]');
    await row.waitFor();
    expect(await row.textContent()).toContain(`POST ${base}/hooks/builds`);
    expect(await row.locator(".received").textContent()).toBe("1 received, 1 refused");
    expect(await row.locator(".received").getAttribute("title")).toMatch(/X-Signature-256/);
    expect(await row.textContent()).not.toContain(hook.secret);
    expect(await row.locator(".rate-limit").textContent()).toBe("at most 5 tasks per 60 s");
    expect(await page.locator('#hooks tr[data-hook="strict"] .signing').textContent()).toBe(" · timestamped only");
    expect(await row.locator(".signing").count()).toBe(0);
    await row.locator('button[data-action="pause"]').click();
    await row.locator(".badge", { hasText: "paused" }).waitFor();
    expect((await hooks.get("builds"))?.enabled).toBe(false);
    expect((await fetch(`${base}/hooks/builds`, { method: "POST", headers: { "Content-Type": "application/json", "X-Signature-256": signBody(hook.secret, body) }, body })).status).toBe(404);
  });

  it("lists the webhooks with their deliveries; dead ones are sent again from the card", async () => {
    let answer = 500;
    const received: string[] = [];
    const receiver = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        received.push(String(req.headers["x-ph-delivery"]));
        res.writeHead(answer).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    try {
      const to = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/ph`;
      await webhooks.create({ name: "alerts", url: to, events: ["failed"], taskType: "cli" });
      const failed = await manager.enqueueTask({ type: "cli", title: "doomed", command: "false", maxAttempts: 1 });
      await openOverview();
      const row = page.locator('#webhooks tr[data-webhook="alerts"]');
      await row.waitFor();
      expect(await row.textContent()).toContain(to);
      expect(await row.textContent()).toContain("failed (type cli)");
      // The receiver answers 500 and the sender gives up at once (one attempt): dead, shown in red.
      await row.locator(".deliveries", { hasText: "0 delivered, 0 pending, 1 dead" }).waitFor({ timeout: 15_000 });
      expect(received).toHaveLength(1);
      answer = 200;
      await row.locator('button[data-action="resend-dead"]').click();
      await row.locator(".deliveries", { hasText: "1 delivered, 0 pending, 0 dead" }).waitFor({ timeout: 15_000 });
      expect(received).toHaveLength(2);
      expect(received[1]).toBe(received[0]); // the same delivery id: the receiver can tell it is a repeat
      const [delivery] = (await webhooks.deliveries((await webhooks.get("alerts"))!, {}));
      expect(delivery).toMatchObject({ task_id: failed.task.id, status: "delivered" });
      await row.locator('button[data-action="pause"]').click();
      await row.locator(".badge", { hasText: "paused" }).waitFor();
      expect((await webhooks.get("alerts"))?.enabled).toBe(false);

      // Its receiver answered 429 for a minute (as the sender records it): the row says so, a ping
      // waits; "Send now" lifts the hold and the ping goes out.
      await webhooks.update("alerts", { enabled: true });
      expect(await webhookStore.hold((await webhooks.get("alerts"))!.id, new Date(Date.now() + 60_000), "HTTP 429")).toBe(true);
      await webhooks.ping((await webhooks.get("alerts"))!);
      await openOverview();
      await row.locator(".held", { hasText: "the receiver answered HTTP 429" }).waitFor();
      await row.locator(".deliveries", { hasText: "1 delivered, 1 pending, 0 dead" }).waitFor();
      await page.screenshot({ path: path.join(ARTIFACTS, "dashboard-webhooks.png"), fullPage: true });
      expect(received).toHaveLength(2);
      await row.locator('button[data-action="lift-hold"]').click();
      await row.locator(".deliveries", { hasText: "2 delivered, 0 pending, 0 dead" }).waitFor({ timeout: 15_000 });
      expect(received).toHaveLength(3);
      expect(await row.locator(".held").count()).toBe(0);
    } finally {
      receiver.closeAllConnections();
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  it("pauses the whole queue from the overview, shows what is paused, and resumes it", async () => {
    await openOverview();
    await page.locator('#queue-section button[data-action="pause-all"]').click();
    const paused = page.locator('#pauses li[data-type="*"]');
    await paused.waitFor();
    expect(await paused.textContent()).toContain("every type");
    expect(await paused.textContent()).toContain("paused from the dashboard");
    // Paused: a task submitted now waits.
    await waitFor(() => (manager.claimableTypes().length === 0 ? true : undefined), 5000, "the pause seen");
    const waiting = await manager.enqueueTask({ type: "cli", title: "waits for the resume", command: "true" });
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect((await manager.getTask(waiting.task.id))?.status).toBe("pending");
    await page.screenshot({ path: path.join(ARTIFACTS, "dashboard-paused.png"), fullPage: true });
    await paused.locator('button[data-action="resume"]').click();
    await page.locator('#queue-section button[data-action="pause-all"]').waitFor();
    await waitFor(async () => ((await manager.getTask(waiting.task.id))?.status === "completed" ? true : undefined), 10_000, "the task after the resume");
  });

  it("shows a rate-limited type, how much of its window is used and when it frees; Lift lets the waiting task run", async () => {
    const limits = new RateLimitStore(store.db);
    await limits.set("cli", 1, 3_600_000, "one an hour");
    await waitFor(() => (manager.rateLimitedTypes().includes("cli") ? true : undefined), 5000, "the limit seen");
    const first = await manager.enqueueTask({ type: "cli", title: "takes the hour's start", command: "true" });
    await waitFor(async () => ((await manager.getTask(first.task.id))?.status === "completed" ? true : undefined), 10_000, "the first task");
    const waiting = await manager.enqueueTask({ type: "cli", title: "waits for the window", command: "true" });
    await openOverview();
    const row = page.locator('#rate-limits li[data-type="cli"]');
    await row.waitFor();
    const text = await row.textContent();
    expect(text).toContain("limit reached");
    expect(text).toContain("at most 1 per hour: 1 in the current window, the next start at");
    expect(text).toContain("one an hour");
    expect((await manager.getTask(waiting.task.id))?.status).toBe("pending");
    await page.screenshot({ path: path.join(ARTIFACTS, "dashboard-rate-limit.png"), fullPage: true });
    await row.locator('button[data-action="lift-limit"]').click();
    await row.waitFor({ state: "detached" });
    await waitFor(async () => ((await manager.getTask(waiting.task.id))?.status === "completed" ? true : undefined), 10_000, "the task after the lift");
    expect(await limits.list()).toEqual([]);
  });

  it("shows a concurrency-capped type with how many run now; Lift lets the waiting task run", async () => {
    const caps = new TypeConcurrencyStore(store.db);
    await caps.set("cli", 1, "one runner");
    const first = await manager.enqueueTask({ type: "cli", title: "holds the one slot", command: "sleep", args: ["30"] });
    await waitFor(async () => ((await manager.getTask(first.task.id))?.status === "running" ? true : undefined), 10_000, "the first task running");
    const waiting = await manager.enqueueTask({ type: "cli", title: "waits for the slot", command: "true" });
    try {
      await openOverview();
      const row = page.locator('#concurrency-caps li[data-type="cli"]');
      await row.waitFor();
      expect(await row.textContent()).toContain("all running cli at most 1 at once across all workers: 1 running now — one runner");
      await page.goto(`${base}/?load=${Date.now()}#/tasks/${waiting.task.id}`);
      await page.locator('#task-details .waiting[data-code="type_busy"]').waitFor();
      await openOverview();
      await row.locator('button[data-action="lift-cap"]').click();
      await row.waitFor({ state: "detached" });
      await waitFor(async () => ((await manager.getTask(waiting.task.id))?.status === "completed" ? true : undefined), 10_000, "the waiting task after the lift");
      expect(await caps.list()).toEqual([]);
    } finally {
      await manager.cancelTask(first.task.id);
      await caps.remove(["cli"]);
    }
  });

  it("a task that waits for another shows it, linked, and runs once it completes", async () => {
    const first = await manager.enqueueTask({ type: "cli", title: "first", command: "sleep", args: ["1"] });
    const second = await manager.enqueueTask({ type: "cli", title: "second", command: "true", dependsOn: [first.task.id], onDependencyFailure: "cancel" });
    await page.goto(`${base}/?load=${Date.now()}#/tasks/${second.task.id}`);
    const row = page.locator("#task-details");
    await row.locator("a.dependency").waitFor();
    expect(await row.textContent()).toContain("Waits for");
    expect(await row.textContent()).toContain("(cancelled if one fails)");
    expect(await row.locator("a.dependency").getAttribute("href")).toBe(`#/tasks/${first.task.id}`);
    // And says why it waits, by the API's waiting reason.
    expect(await row.locator('.waiting[data-code="dependencies"]').textContent()).toBe(`waits for task ${first.task.id} to complete`);
    await page.locator('#task-details [data-status="completed"]').waitFor({ timeout: 15_000 });
    expect(await row.textContent()).toContain("Ran after");

    // Not before a time: the page says when, and why it waits.
    const runAt = new Date(Date.now() + 3_600_000).toISOString();
    const later = await manager.enqueueTask({ type: "cli", title: "in an hour", command: "true", runAt });
    try {
      await page.goto(`${base}/?load=${Date.now()}#/tasks/${later.task.id}`);
      await page.locator("#task-details .run-at").waitFor();
      expect(await page.locator('#task-details .waiting[data-code="not_before"]').textContent()).toBe(`not before ${runAt} (its runAt)`);
    } finally {
      await manager.cancelTask(later.task.id);
    }
  });

  it("with the read-only token shows everything, offers no button that would act, and says read-only", async () => {
    const done = await manager.enqueueTask({ type: "cli", title: "watched", command: "echo", args: ["from afar"] });
    await waitFor(async () => ((await manager.getTask(done.task.id))?.status === "completed" ? true : undefined), 10_000, "the task");
    await page.evaluate((token) => localStorage.setItem("ph-tasks-token", token), READ_TOKEN);
    try {
      await page.goto(`${base}/?load=${Date.now()}#/`); // no form to wait for
      await page.locator("#recent tr", { hasText: "watched" }).waitFor();
      expect(await page.locator("#access-note").isVisible()).toBe(true);
      expect(await page.locator("#submit-form").isVisible()).toBe(false);
      expect(await page.locator("#schedules").isVisible()).toBe(true);
      const actions = page.locator("[data-action]");
      expect(await actions.count()).toBeGreaterThan(0); // in the page (schedules, hooks, webhooks, bulk), none shown
      for (const button of await actions.all()) expect(await button.isVisible()).toBe(false);
      await page.screenshot({ path: path.join(ARTIFACTS, "dashboard-read-only.png"), fullPage: true });
      await page.goto(`${base}/?load=${Date.now()}#/tasks/${done.task.id}`);
      await page.locator("#output", { hasText: "from afar" }).waitFor();
      expect(await page.locator("#cancel").isVisible()).toBe(false);
      expect(await page.locator("#retry").isVisible()).toBe(false);
    } finally {
      await page.evaluate((token) => localStorage.setItem("ph-tasks-token", token), TOKEN);
    }
    await openOverview();
    expect(await page.locator("#access-note").isVisible()).toBe(false);
    expect(await page.locator("#submit-form").isVisible()).toBe(true);
  });

  it.skipIf(!testCgroupRoot)("shows what a run's processes used in CPU (a cgroup per run)", async () => {
    const { task } = await manager.enqueueTask({ type: "cli", title: "busy", command: "sh", args: ["-c", "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done"] });
    await page.goto(`${base}/?load=${Date.now()}#/tasks/${task.id}`);
    await page.locator('#task-details [data-status="completed"]').waitFor({ timeout: 20_000 });
    expect(await page.locator("#task-details .cpu").textContent()).toMatch(/^\d+\.\d\d s user, \d+\.\d\d s system$/);
  });

  it("shows a run's resource limits, and a waiting task's asked-for ones", async () => {
    const { task } = await manager.enqueueTask({ type: "cli", title: "limited", command: "true", limits: { cpuSeconds: 5, openFiles: 128 } });
    await page.goto(`${base}/?load=${Date.now()}#/tasks/${task.id}`);
    await page.locator('#task-details [data-status="completed"]').waitFor({ timeout: 20_000 });
    expect(await page.locator("#task-details .limits").textContent()).toBe("CPU time 5 s, open files 128 (each process)");
    // Not run yet (an hour from now): what it asks for.
    const { task: waiting } = await manager.enqueueTask({ type: "cli", title: "limited, later", command: "true", limits: { memoryMb: 256 }, runAt: new Date(Date.now() + 3_600_000).toISOString() });
    await page.goto(`${base}/?load=${Date.now()}#/tasks/${waiting.id}`);
    await page.locator('#task-details [data-status="pending"]').waitFor({ timeout: 20_000 });
    expect(await page.locator("#task-details .limits").textContent()).toBe("memory 256 MB (each process)");
    await manager.cancelTask(waiting.id);
  });

  it("lists the pipelines and shows one's steps in order with their errors; links to and from its tasks; retries the failed step", async () => {
    const call = async (method: string, route: string, body?: unknown) => {
      const res = await fetch(`${base}${route}`, { method, headers: { Authorization: `Bearer ${TOKEN}`, ...(body ? { "Content-Type": "application/json" } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
      return (await res.json()) as Record<string, unknown>;
    };
    type Step = { name: string; taskId: string; status: string };
    type Pipeline = { id: string; status: string; steps: Step[] };
    const { pipeline: sent } = (await call("POST", "/api/pipelines", {
      title: 'release <b id="pwned">7</b>',
      steps: [
        { name: "build", task: { type: "cli", title: "build it", command: "true" } },
        { name: "test", after: ["build"], task: { type: "cli", title: "test it", command: process.execPath, args: ["-e", "setTimeout(() => process.exit(3), 1000)"], maxAttempts: 1 } },
        { name: "deploy", after: ["test"], task: { type: "cli", title: "deploy it", command: "true" } },
      ],
    })) as { pipeline: Pipeline };
    const failed = await waitFor(async () => {
      const { pipeline } = (await call("GET", `/api/pipelines/${sent.id}`)) as { pipeline: Pipeline };
      return pipeline.status === "failed" ? pipeline : undefined;
    }, 20_000, "the pipeline to fail");
    const testStep = failed.steps[1]!;

    // The list, reached through the header's link: its title as text, its status, its steps done.
    await openOverview();
    await page.locator("#nav-pipelines").click();
    const row = page.locator(`#pipelines tr[data-pipeline="${sent.id}"]`);
    await row.waitFor();
    expect(await row.locator("[data-status]").textContent()).toBe("failed");
    expect(await row.locator(".steps-done").textContent()).toBe("1/3");
    expect(await row.locator(".title a").textContent()).toBe('release <b id="pwned">7</b>');
    expect(await page.locator("#pwned").count()).toBe(0);
    // Filtered by status: there among the failed ones, not among the completed ones.
    await page.locator('#pipeline-filters a[data-filter="completed"]').click();
    await page.waitForURL(/#\/pipelines\?status=completed$/);
    await page.locator("#pipelines-section h2", { hasText: "completed" }).waitFor();
    expect(await page.locator(`#pipelines tr[data-pipeline="${sent.id}"]`).count()).toBe(0);
    await page.locator('#pipeline-filters a[data-filter="failed"]').click();
    await row.waitFor();
    expect(await page.locator('#pipeline-filters a[aria-current="true"]').textContent()).toBe("failed");

    // The pipeline: its steps in order, what each waits for, and why the last two ended.
    await row.locator(".title a").click();
    await page.waitForURL(new RegExp(`#/pipelines/${sent.id}$`));
    await page.locator("#pipeline-steps").waitFor();
    expect(await page.locator(".pipeline-title").textContent()).toBe('release <b id="pwned">7</b>');
    expect(await page.locator("#pipeline-status [data-status]").textContent()).toBe("failed");
    const steps = page.locator("#pipeline-steps tbody tr");
    expect(await steps.evaluateAll((rows) => rows.map((r) => [(r as HTMLElement).dataset.step, (r as HTMLElement).dataset.status]))).toEqual([["build", "completed"], ["test", "failed"], ["deploy", "cancelled"]]);
    expect(await steps.locator(".after").allTextContents()).toEqual(["–", "build", "test"]);
    expect(await steps.nth(0).locator("td").nth(4).textContent()).toMatch(/^\d+\.\d s$/);
    expect(await steps.nth(1).locator(".step-error [data-code]").getAttribute("data-code")).toBe("exit_code");
    expect(await steps.nth(2).locator(".step-error [data-code]").getAttribute("data-code")).toBe("dependency_failed");
    expect(await page.locator("#pipeline-cancel").count()).toBe(0);
    await page.screenshot({ path: path.join(ARTIFACTS, "dashboard-pipeline.png"), fullPage: true });

    // The failed step's task, and back through its "pipeline" link.
    await steps.nth(1).locator("a.step-task").click();
    await page.waitForURL(new RegExp(`#/tasks/${testStep.taskId}$`));
    const back = page.locator("#task-details a.pipeline-link");
    await back.waitFor();
    expect(await back.textContent()).toBe("pipeline");
    await back.click();
    await page.waitForURL(new RegExp(`#/pipelines/${sent.id}$`));

    // Read-only: the pipeline shows, its buttons do not.
    await page.evaluate((token) => localStorage.setItem("ph-tasks-token", token), READ_TOKEN);
    try {
      await page.goto(`${base}/?load=${Date.now()}#/pipelines/${sent.id}`);
      await page.locator("#pipeline-steps").waitFor();
      expect(await page.locator("#pipeline-retry").count()).toBe(1); // drawn, but hidden
      expect(await page.locator("#pipeline-retry").isVisible()).toBe(false);
    } finally {
      await page.evaluate((token) => localStorage.setItem("ph-tasks-token", token), TOKEN);
    }
    await page.goto(`${base}/?load=${Date.now()}#/pipelines/${sent.id}`);

    // Retry: the page redraws (unsettled: Cancel offered); the failed step runs again (a second
    // attempt) and fails again, which the page shows by itself (it polls while unsettled).
    await page.locator("#pipeline-retry").click();
    await page.locator("#pipeline-cancel").waitFor();
    expect(await page.locator("#pipeline-error").textContent()).toBe("");
    await waitFor(async () => (((await call("GET", `/api/tasks/${testStep.taskId}/attempts`)).attempts as unknown[]).length === 2 ? true : undefined), 15_000, "the failed step to run again");
    await page.locator('#pipeline-status [data-status="failed"]').waitFor({ timeout: 15_000 });
    await page.locator("#pipeline-retry").waitFor();
    expect(await page.locator("#pipeline-cancel").count()).toBe(0);
  });

  it("a pipeline stopped at its approval step: its own status and filter, the step awaiting a decision, approved from the step's page", async () => {
    const res = await fetch(`${base}/api/pipelines`, {
      method: "POST",
      headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ title: "release 8", steps: [{ name: "sign-off", task: { type: "approval", title: "ship release 8?" } }, { name: "ship", after: ["sign-off"], task: { type: "cli", title: "ship it", command: "true" } }] }),
    });
    const { pipeline } = (await res.json()) as { pipeline: { id: string; steps: { taskId: string }[] } };
    // Asked for within a second (the sweep): then the filter finds it.
    await waitFor(async () => {
      await page.goto(`${base}/?load=${Date.now()}#/pipelines?status=awaiting_approval`);
      await page.locator("#pipelines-section h2", { hasText: "awaiting_approval" }).waitFor();
      return (await page.locator(`#pipelines tr[data-pipeline="${pipeline.id}"]`).count()) > 0 ? true : undefined;
    }, 10_000, "the pipeline among those awaiting approval");
    const row = page.locator(`#pipelines tr[data-pipeline="${pipeline.id}"]`);
    expect(await row.locator("[data-status]").textContent()).toBe("awaiting approval");
    await row.locator(".title a").click();
    await page.locator("#pipeline-steps").waitFor();
    expect(await page.locator("#pipeline-status [data-status]").getAttribute("data-status")).toBe("awaiting_approval");
    const steps = page.locator("#pipeline-steps tbody tr");
    expect(await steps.evaluateAll((rows) => rows.map((r) => [(r as HTMLElement).dataset.step, (r as HTMLElement).dataset.status]))).toEqual([["sign-off", "awaiting_decision"], ["ship", "pending"]]);
    expect(await page.locator("#pipeline-cancel").count()).toBe(1);
    await steps.nth(0).locator("a.step-task").click();
    await page.waitForURL(new RegExp(`#/tasks/${pipeline.steps[0]!.taskId}$`));
    await page.locator("#approve").click();
    await page.locator("#task-details a.pipeline-link").click();
    await page.locator('#pipeline-status [data-status="completed"]').waitFor({ timeout: 20_000 });
  });

  it("an approval only alice may decide: who may, controls off for a token that names no one; signed in as alice, decided in her name", async () => {
    // Asked for with alice's own token: the page says by whom.
    const sent = await fetch(`${base}/api/tasks`, { method: "POST", headers: { Authorization: `Bearer ${ALICE_TOKEN}`, "Content-Type": "application/json" }, body: JSON.stringify({ type: "approval", title: "alice's call", approvers: ["alice"] }) });
    const { task } = (await sent.json()) as { task: { id: string } };
    await page.goto(`${base}/?load=${Date.now()}#/tasks/${task.id}`);
    await page.locator('#task-details .waiting[data-code="approval"]').waitFor({ timeout: 10_000 });
    expect(await page.locator("#task-details .approvers").textContent()).toBe("alice");
    expect(await page.locator("#task-details .asked-by").textContent()).toBe("alice");
    // The controls are set from who is signed in, which the page reads apart from the task: waited for, not raced.
    await page.locator("#decision-refusal").filter({ hasText: /\S/ }).waitFor({ timeout: 10_000 });
    expect(await page.locator("#approve").isDisabled()).toBe(true);
    expect(await page.locator("#decision-refusal").textContent()).toBe("only alice may decide this; your token names no one (API_USERS gives named tokens)");
    expect(await page.locator("#user-note").isVisible()).toBe(false);
    await page.evaluate((token) => localStorage.setItem("ph-tasks-token", token), ALICE_TOKEN);
    try {
      await page.goto(`${base}/?load=${Date.now()}#/tasks/${task.id}`);
      await page.locator('#task-details .waiting[data-code="approval"]').waitFor({ timeout: 10_000 });
      expect(await page.locator("#user-note").textContent()).toBe("signed in as alice");
      expect(await page.locator("#decision-refusal").textContent()).toBe("");
      await page.locator("#approve").click();
      await page.locator('#task-details [data-status="completed"]').waitFor({ timeout: 20_000 });
      expect(await page.locator("#task-details .decision").textContent()).toMatch(/^approved by alice \(/);
    } finally {
      await page.evaluate((token) => localStorage.setItem("ph-tasks-token", token), TOKEN);
    }
  });

  it("the Changes page: who asked for which change, newest first; one person's by their name; a hostile path shown as text", async () => {
    const post = (token: string, route: string, body: unknown) => fetch(`${base}${route}`, { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: JSON.stringify(body) });
    expect((await post(ALICE_TOKEN, "/api/queue/pause", { types: ["cli"], reason: "audit" })).status).toBe(200);
    expect((await post(ALICE_TOKEN, "/api/queue/resume", { types: ["cli"] })).status).toBe(200);
    expect((await post(READ_TOKEN, "/api/queue/pause", {})).status).toBe(403);
    expect((await post(TOKEN, "/api/tasks/<img src=x id=pwned>/cancel", {})).status).toBe(404);
    await audit.flush();
    await page.goto(`${base}/?load=${Date.now()}#/`);
    await page.locator("#nav-audit").click();
    await page.waitForURL(/#\/audit$/);
    const rows = page.locator("#audit tbody tr");
    await rows.first().waitFor();
    const top = await rows.evaluateAll((trs) => trs.slice(0, 4).map((tr) => Array.from(tr.querySelectorAll("td"), (td) => td.textContent ?? "").slice(1, 5)));
    expect(top).toEqual([
      ["API_TOKEN", "api", "POST /api/tasks/%3Cimg%20src=x%20id=pwned%3E/cancel", "404"],
      ["API_READ_TOKEN", "api", "POST /api/queue/pause", "403"],
      ["alice", "api", "POST /api/queue/resume", "200"],
      ["alice", "api", "POST /api/queue/pause", "200"],
    ]);
    expect(await page.locator("#pwned").count()).toBe(0);
    await rows.nth(2).locator(".actor a").click();
    await page.waitForURL(/#\/audit\?actor=alice$/);
    await page.locator("#audit-section h2", { hasText: "by alice" }).waitFor();
    expect(new Set(await page.locator("#audit tbody .actor").allTextContents())).toEqual(new Set(["alice"]));
  });

  it("an approval task's page: what it waits for, Approve with a note, then its decision and its end", async () => {
    const { task } = await manager.enqueueTask({ type: "approval", title: "ship from the browser?", message: "build 42 passed" });
    // The overview's card lists it once it is asked for (a sweep each second); its link opens its page.
    await waitFor(async () => {
      await openOverview();
      return (await page.locator(`#approvals-section li[data-task="${task.id}"]`).count()) > 0 ? true : undefined;
    }, 10_000, "the approvals card");
    expect(await page.locator(`#approvals-section li[data-task="${task.id}"]`).textContent()).toMatch(/^ship from the browser\? — build 42 passed \(asked \d+ s ago\)$/);
    await page.locator(`#approvals-section li[data-task="${task.id}"] a`).click();
    await page.waitForURL(new RegExp(`#/tasks/${task.id}$`));
    await page.locator('#task-details .waiting[data-code="approval"]').waitFor({ timeout: 10_000 });
    expect(await page.locator("#approve").isDisabled()).toBe(false);
    await page.locator("#decision-note").fill("looks right");
    await page.locator("#approve").click();
    await page.locator('#task-details [data-status="completed"]').waitFor({ timeout: 20_000 });
    expect(await page.locator("#task-details .decision").textContent()).toMatch(/^approved by the dashboard: looks right \(/);
    expect(await page.locator("#approve").isDisabled()).toBe(true);
    expect(await page.locator("#reject").isDisabled()).toBe(true);
    expect((await manager.getTask(task.id))?.result).toMatchObject({ approved: true, by: "the dashboard", note: "looks right" });
    // Another type's page has no such controls.
    const { task: plain } = await manager.enqueueTask({ type: "cli", title: "plain", command: "true" });
    await page.goto(`${base}/?load=${Date.now()}#/tasks/${plain.id}`);
    await page.locator("#retry").waitFor();
    expect(await page.locator("#approve").count()).toBe(0);
    // Decided: the card is gone.
    await openOverview();
    expect(await page.locator("#approvals-section li").count()).toBe(0);
  });

  it("the Spend card: the last 24 hours against the daily budget and its meter, the days, the costliest tasks linked (a removed one not), the drives against theirs, the people who asked; spent: until when", async () => {
    // `drive`: a run that drive's writers asked for; `by`: the person who asked, as proven.
    const cost = (taskId: string, type: string, usd: number, hoursAgo: number, drive: string | null = null, by: string | null = null) =>
      store.db.query("INSERT INTO ph_run_costs (task_id, attempt, task_type, cost_usd, recorded_at, worker_id, writers_drive, asked_by) VALUES ($1, 1, $2, $3, now() - make_interval(hours => $4), 'w', $5, $6)", [taskId, type, usd, hoursAgo, drive, by]);
    const { task } = await manager.enqueueTask({ type: "cli", title: "the dear one", command: "true" });
    await cost(task.id, "claude-code", 1, 2, "team", "alice");
    await cost("gone", "claude-agent", 0.25, 1);
    await cost("older", "claude-code", 4, 30); // out of the 24 hours, in the days
    await openOverview();
    const headline = page.locator("#spend-headline");
    expect(await headline.textContent()).toBe("last 24 hours: $1.25 in 2 runs of a $5.00 daily budget: $3.75 left");
    expect(await page.locator("#spend-meter").evaluate((meter) => (meter as HTMLMeterElement).value)).toBe(0.25);
    expect(await page.locator("#spend-section .spend-meter span").textContent()).toBe("25 % of the daily budget");
    // The days (one or two UTC days, as the clock falls) hold all three runs.
    const runs = await page.locator("#spend-days tbody tr td:nth-child(3)").allTextContents();
    expect(runs.reduce((sum, n) => sum + Number(n), 0)).toBe(3);
    const link = page.locator(`#spend-costliest tr[data-task="${task.id}"] a`);
    expect(await link.textContent()).toBe("the dear one");
    expect(await link.getAttribute("href")).toBe(`#/tasks/${task.id}`);
    expect(await page.locator('#spend-costliest tr[data-task="gone"] td.title').textContent()).toBe("(removed)");
    expect(await page.locator('#spend-costliest tr[data-task="gone"] a').count()).toBe(0);
    expect(await page.locator('#spend-costliest tr[data-task="older"]').count()).toBe(0);
    // By drive: team's writers asked for the dollar (of their 2), the owner for the rest.
    expect(await page.locator("#spend-drives thead th:nth-child(4)").textContent()).toBe("Budget ($2.00 a day unless its own)");
    expect(await page.locator('#spend-drives tr[data-drive="team"] td').allTextContents()).toEqual(["team", "$1.00", "1", "$1.00 left of $2.00"]);
    expect(await page.locator('#spend-drives tr[data-drive=""] td').allTextContents()).toEqual(["the owner's own (API, CLI, schedules, hooks)", "$0.25", "1", ""]);
    // By person: alice asked for the dollar; no one named for the rest.
    expect(await page.locator('#spend-people tr[data-by="alice"] td').allTextContents()).toEqual(["alice", "$1.00", "1"]);
    expect(await page.locator('#spend-people tr[data-by=""] td').allTextContents()).toEqual(["no one named (API_TOKEN, loopback, schedules, hooks, unnamed writers)", "$0.25", "1"]);
    await link.click();
    await page.waitForURL(new RegExp(`#/tasks/${task.id}$`));

    // Spent: until when Claude tasks wait, in the reader's locale (the API's time, give or take the second it is read in).
    await cost("the-big-one", "claude-code", 4, 0);
    await cost("team's-big-one", "claude-code", 1.5, 0, "team");
    await openOverview();
    const { resumesAt } = (await (await fetch(`${base}/api/spend`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json()) as { resumesAt: string };
    const times = await page.evaluate((iso) => [-1000, 0, 1000].map((ms) => new Date(Date.parse(iso) + ms).toLocaleString()), resumesAt);
    const said = (await headline.textContent()) ?? "";
    const prefix = "last 24 hours: $6.75 in 4 runs of a $5.00 daily budget: spent — Claude tasks wait until ";
    expect(said.startsWith(prefix)).toBe(true);
    expect(times).toContain(said.slice(prefix.length));
    // team's writers past their $2: until when their tasks wait, as the API says it.
    const drives = ((await (await fetch(`${base}/api/spend`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json()) as { drives: { driveId: string | null; resumesAt: string | null }[] }).drives;
    const teamResumes = drives.find((d) => d.driveId === "team")?.resumesAt ?? "";
    const teamTimes = await page.evaluate((iso) => [-1000, 0, 1000].map((ms) => `spent — waits until ${new Date(Date.parse(iso) + ms).toLocaleString()}`), teamResumes);
    expect(teamTimes).toContain(await page.locator('#spend-drives tr[data-drive="team"] td:nth-child(4)').textContent());
    expect(await page.locator('#spend-drives tr[data-drive="team"]').getAttribute("class")).toBe("error-text");
    expect(await page.locator("#spend-meter").evaluate((meter) => (meter as HTMLMeterElement).value)).toBe(1);
    expect(await page.locator("#spend-section .spend-meter span").textContent()).toBe("100 % of the daily budget");
    await page.locator("#spend-section").screenshot({ path: path.join(ARTIFACTS, "dashboard-spend.png") });
  });
});
