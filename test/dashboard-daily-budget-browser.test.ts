/**
 * The dashboard's Budgets card, its daily budget, in a real browser (Debian's chromium,
 * playwright-core): TASK_BUDGET_USD_PER_DAY is shown with what was spent and what is left; a budget
 * set in its form (by a named token) says who set it, why and what the setting would give, holds the
 * manager at once (the API says the same); a bad amount is refused naming the field and what was
 * typed; "none" holds to no budget; Remove gives the setting back; the read-only token sees the
 * block but neither the form nor the button.
 */
import type { Server } from "node:http";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createApp, listen } from "../src/http/server.js";
import { silentLogger } from "../src/logger.js";
import { SpendStore } from "../src/store/spend-store.js";
import { TaskStore } from "../src/store/task-store.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import { ARTIFACTS, closeDashboard, dashboardPage, describeInChromium, launchChromium } from "./support/browser.js";
import { testManager } from "./support/manager.js";
import { waitFor } from "./support/process.js";

const TOKEN = "daily-budget-token-0123456789";
const ALICE_TOKEN = "daily-budget-alice-0123456789";
const READ_TOKEN = "daily-budget-read-0123456789";

describeInChromium("the dashboard's daily budget (Budgets card)", () => {
  let store: TaskStore;
  let manager: TaskManager;
  let server: Server;
  let base: string;
  let browser: Browser;
  let page: Page;

  const openOverview = async () => {
    await page.goto(`${base}/?load=${Date.now()}#/`);
    await page.locator("#daily-budget-line").waitFor();
  };
  /** GET /api/budgets/daily with the admin token. */
  const daily = async () => {
    const res = await fetch(`${base}/api/budgets/daily`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    return ((await res.json()) as { daily: Record<string, unknown> }).daily;
  };
  /** The manager holds the daily budget `usd` (undefined: none), spent or not as `spent` says. */
  const heldAt = (usd: number | undefined, spent: boolean) =>
    waitFor(() => (manager.budgets.daily.limitUsd === usd && (manager.budgets.daily.spent() !== undefined) === spent) || undefined, 5000, `the manager to hold the daily budget ${String(usd)}`);

  beforeAll(async () => {
    store = await TaskStore.open({});
    manager = testManager(store, { budgetUsdPerDay: 5 });
    await manager.start();
    ({ server, url: base } = await listen(createApp({ manager, metrics: manager.metrics!, logger: silentLogger(), apiToken: TOKEN, readToken: READ_TOKEN, users: [{ name: "alice", token: ALICE_TOKEN }] }), "127.0.0.1", 0, TOKEN));
    browser = await launchChromium();
    page = await dashboardPage(browser, base, ALICE_TOKEN);
    // $1.50 spent an hour ago, by no drive's writers.
    await store.db.query("INSERT INTO ph_run_costs (task_id, attempt, task_type, cost_usd, recorded_at, worker_id) VALUES ('t1', 1, 'claude-code', 1.5, now() - interval '1 hour', 'w')");
  });

  afterAll(async () => {
    await closeDashboard({ browser, server, manager, store });
  });

  it("shows the setting's budget, sets one from the form saying who and why, refuses a bad amount naming it, sets none, and removes it", async () => {
    await openOverview();
    const line = page.locator("#daily-budget-line");
    const spent = page.locator("#daily-budget-spent");
    const removeButton = page.locator('#daily-budget button[data-action="remove-daily-budget"]');
    expect(await page.locator("#drive-budgets-section h2").textContent()).toBe("Budgets");
    expect(await line.textContent()).toBe("Daily budget, all runs: $5.00 a day (TASK_BUDGET_USD_PER_DAY)");
    expect(await spent.textContent()).toBe("Last 24 hours: $1.50 in 1 run — $3.50 left");
    expect(await removeButton.count()).toBe(0); // the setting is changed in the settings

    // A dollar, by alice: below the $1.50 spent, so it is spent and the manager holds runs.
    const form = page.locator("#daily-budget-form");
    await form.locator("input[name=usd]").fill("1");
    await form.locator("input[name=reason]").fill("a trial");
    await form.locator("button[type=submit]").click();
    await page.locator("#daily-budget-line", { hasText: "$1.00" }).waitFor();
    expect(await line.textContent()).toBe("Daily budget, all runs: $1.00 a day — set by alice: a trial (TASK_BUDGET_USD_PER_DAY would give $5.00)");
    expect(await spent.textContent()).toMatch(/^Last 24 hours: \$1\.50 in 1 run — spent — waits until \S/);
    expect(await spent.getAttribute("class")).toBe("error-text");
    expect(await removeButton.count()).toBe(1);
    expect(await form.locator("input[name=usd]").inputValue()).toBe(""); // the form was cleared
    expect(await form.locator("input[name=reason]").inputValue()).toBe("");
    expect(await daily()).toMatchObject({ usdPerDay: 1, setting: "set by alice (ph-tasks budget)", reason: "a trial", setBy: "alice", settingsUsd: 5, spentUsd: 1.5, runs: 1, remainingUsd: 0, resumesAt: expect.any(String) });
    await heldAt(1, true);
    await page.locator("#drive-budgets-section").screenshot({ path: path.join(ARTIFACTS, "dashboard-daily-budget.png") });

    // A bad amount: refused naming the field and what was typed; nothing changed.
    await form.locator("input[name=usd]").fill("lots");
    await form.locator("button[type=submit]").click();
    const error = page.locator("#daily-budget-form-error");
    await error.filter({ hasText: /\S/ }).waitFor();
    expect(await error.textContent()).toMatch(/^usdPerDay: must be an amount in US dollars per 24 hours, .* \(got "lots"\)$/);
    expect(await daily()).toMatchObject({ usdPerDay: 1, setBy: "alice", reason: "a trial" });
    expect(await form.locator("input[name=usd]").inputValue()).toBe("lots"); // what was typed stays, to be corrected

    // "none": held to no daily budget at all, said as set by alice.
    await form.locator("input[name=usd]").fill("none");
    await form.locator("button[type=submit]").click();
    await page.locator("#daily-budget-line", { hasText: "No daily budget" }).waitFor();
    expect(await line.textContent()).toBe("No daily budget — set by alice (TASK_BUDGET_USD_PER_DAY would give $5.00)");
    expect(await spent.textContent()).toBe("Last 24 hours: $1.50 in 1 run.");
    expect(await error.textContent()).toBe("");
    expect(await daily()).toMatchObject({ usdPerDay: null, setting: "set by alice (ph-tasks budget): none", setBy: "alice", remainingUsd: null, resumesAt: null });
    await heldAt(undefined, false);

    // Remove: TASK_BUDGET_USD_PER_DAY holds again, and there is nothing left to remove.
    await removeButton.click();
    await page.locator("#daily-budget-line", { hasText: "$5.00 a day" }).waitFor();
    expect(await line.textContent()).toBe("Daily budget, all runs: $5.00 a day (TASK_BUDGET_USD_PER_DAY)");
    expect(await spent.textContent()).toBe("Last 24 hours: $1.50 in 1 run — $3.50 left");
    expect(await removeButton.count()).toBe(0);
    expect(await page.locator("#daily-budget-error").textContent()).toBe("");
    expect(await daily()).toMatchObject({ usdPerDay: 5, setting: "TASK_BUDGET_USD_PER_DAY", setBy: null, reason: null });
    await heldAt(5, false);
  });

  it("a token refused as the form is sent asks for another, and sets nothing", async () => {
    await openOverview();
    await page.evaluate(() => localStorage.setItem("ph-tasks-token", "a-token-the-agent-does-not-know"));
    try {
      const form = page.locator("#daily-budget-form");
      await form.locator("input[name=usd]").fill("3");
      await form.locator("button[type=submit]").click();
      await page.locator("#token-input").waitFor();
      expect(await page.locator("#token-error").textContent()).toBe("The token was refused.");
      expect(await daily()).toMatchObject({ usdPerDay: 5, setBy: null });
    } finally {
      await page.evaluate((token) => localStorage.setItem("ph-tasks-token", token), ALICE_TOKEN);
    }
  });

  it("the read-only token sees the block, not the form or the Remove button", async () => {
    await new SpendStore(store.db).setDailyBudget(2, "", "alice");
    await page.evaluate((token) => localStorage.setItem("ph-tasks-token", token), READ_TOKEN);
    try {
      await openOverview();
      await page.locator("body.read-only").waitFor();
      expect(await page.locator("#daily-budget-line").textContent()).toBe("Daily budget, all runs: $2.00 a day — set by alice (TASK_BUDGET_USD_PER_DAY would give $5.00)");
      expect(await page.locator("#daily-budget-spent").textContent()).toBe("Last 24 hours: $1.50 in 1 run — $0.50 left");
      expect(await page.locator("#daily-budget-form").isVisible()).toBe(false);
      // Drawn, but not offered.
      expect(await page.locator('#daily-budget button[data-action="remove-daily-budget"]').count()).toBe(1);
      expect(await page.locator('#daily-budget button[data-action="remove-daily-budget"]').isVisible()).toBe(false);
    } finally {
      await page.evaluate((token) => localStorage.setItem("ph-tasks-token", token), ALICE_TOKEN);
    }
  });

  it("warns of a worker that does not read budgets set here (a rolling upgrade's older one), and stops once it is gone", async () => {
    await store.db.query(`INSERT INTO ph_workers (worker_id, host, pid, version, state, max_concurrent, prefetch, lease_ms, types, started_at, schema_version, last_seen_at)
                          VALUES ('w-041', 'old-host', 42, '0.9.0', 'running', 2, 0, 600000, '{cli}', now() - interval '1 hour', 41, now())`);
    try {
      await openOverview();
      expect(await page.locator("#daily-budget-warning").textContent()).toBe("Warning: worker w-041 on old-host (agent 0.9.0) does not read the daily budget set while the agents run: it holds to its settings until upgraded.");
      expect(await page.locator("#drive-budgets-warning").textContent()).toBe("Warning: worker w-041 on old-host (agent 0.9.0) does not read drive budgets set while the agents run: it holds to its settings until upgraded.");
    } finally {
      await store.db.query("DELETE FROM ph_workers WHERE worker_id = 'w-041'");
    }
    await openOverview();
    expect(await page.locator("#daily-budget-warning").count()).toBe(0);
    expect(await page.locator("#drive-budgets-warning").count()).toBe(0);
  });
});
