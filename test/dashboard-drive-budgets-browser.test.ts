/**
 * The dashboard's Drive budgets card, in a real browser (Debian's chromium, playwright-core): a
 * budget set in its form (by a named token) is listed with what the drive spent, who set it and
 * why, holds the drive's tasks (the API says so) and shows in the Spend card's drives; a bad amount
 * is refused naming the field and what was typed; Remove gives the drive back to its setting; the
 * read-only token sees the list but neither the form nor the buttons.
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

const TOKEN = "drive-budgets-token-0123456789";
const ALICE_TOKEN = "drive-budgets-alice-0123456789";
const READ_TOKEN = "drive-budgets-read-0123456789";

describeInChromium("the dashboard's Drive budgets card", () => {
  let store: TaskStore;
  let manager: TaskManager;
  let server: Server;
  let base: string;
  let browser: Browser;
  let page: Page;

  const openOverview = async () => {
    await page.goto(`${base}/?load=${Date.now()}#/`);
    await page.locator("#drive-budgets-section").waitFor();
  };

  beforeAll(async () => {
    store = await TaskStore.open({});
    manager = testManager(store, { budgetUsdPerDay: 5, budgetUsdPerDrivePerDay: 2, driveBudgetsUsdPerDay: { partners: 5 }, budgetWarnAtPercent: 75 });
    await manager.start();
    ({ server, url: base } = await listen(createApp({ manager, metrics: manager.metrics!, logger: silentLogger(), apiToken: TOKEN, readToken: READ_TOKEN, users: [{ name: "alice", token: ALICE_TOKEN }] }), "127.0.0.1", 0, TOKEN));
    browser = await launchChromium();
    page = await dashboardPage(browser, base, ALICE_TOKEN);
    // team's writers spent $1.50 an hour ago.
    await store.db.query("INSERT INTO ph_run_costs (task_id, attempt, task_type, cost_usd, recorded_at, worker_id, writers_drive) VALUES ('t1', 1, 'claude-code', 1.5, now() - interval '1 hour', 'w', 'team')");
  });

  afterAll(async () => {
    await closeDashboard({ browser, server, manager, store });
  });

  it("sets a drive's budget from the form, lists it with who set it, refuses a bad amount naming it, and removes it", async () => {
    await openOverview();
    // The named setting is listed (no Remove: it is changed in the settings), and the default.
    expect(await page.locator('#drive-budgets tr[data-drive="partners"] td').allTextContents()).toEqual(["partners", "$5.00", "$0.00", "$5.00 left", "TASK_DRIVE_BUDGETS_USD_PER_DAY", ""]);
    expect(await page.locator("#drive-budgets-list p.muted").textContent()).toBe("Other drives: $2.00 a day each (TASK_BUDGET_USD_PER_DRIVE_PER_DAY).");

    // A dollar for team, by alice: below its $1.50, so it is spent.
    const form = page.locator("#drive-budget-form");
    await form.locator("input[name=drive]").fill("team");
    await form.locator("input[name=usd]").fill("1");
    await form.locator("input[name=reason]").fill("over-eager reviewers");
    await form.locator("button[type=submit]").click();
    const team = page.locator('#drive-budgets tr[data-drive="team"]');
    await team.waitFor();
    const cells = await team.locator("td").allTextContents();
    expect(cells.slice(0, 3)).toEqual(["team", "$1.00", "$1.50"]);
    expect(cells[3]).toMatch(/^spent — waits until /);
    expect(cells[4]).toBe("alice — over-eager reviewers");
    expect(await team.getAttribute("class")).toBe("error-text");
    expect(await form.locator("input[name=drive]").inputValue()).toBe(""); // the form was cleared
    const stored = await new SpendStore(store.db).holderBudgets("drive", ["team"]);
    expect(stored).toMatchObject([{ holder: "team", usd_per_day: 1, set_by: "alice", reason: "over-eager reviewers" }]);
    // The Spend card's drives say whose budget it is.
    await openOverview();
    expect(await page.locator('#spend-drives tr[data-drive="team"] td:nth-child(4)').textContent()).toMatch(/^spent — waits until .* — set by alice \(ph-tasks budget\)$/);
    await page.locator("#drive-budgets-section").screenshot({ path: path.join(ARTIFACTS, "dashboard-drive-budgets.png") });

    // A bad amount: refused naming the field and what was typed; nothing changed.
    await form.locator("input[name=drive]").fill("team");
    await form.locator("input[name=usd]").fill("lots");
    await form.locator("button[type=submit]").click();
    await page.locator("#drive-budget-form-error").filter({ hasText: /\S/ }).waitFor();
    expect(await page.locator("#drive-budget-form-error").textContent()).toMatch(/^usdPerDay: must be an amount in US dollars per 24 hours, more than 0 and at most 1000000 \(e\.g\. 2\.50\), or null for no budget at all \(got "lots"\)$/);
    expect((await new SpendStore(store.db).holderBudgets("drive", ["team"]))[0]?.usd_per_day).toBe(1);

    // "none": team's writers are not held at all.
    await form.locator("input[name=usd]").fill("none");
    await form.locator("button[type=submit]").click();
    await page.locator('#drive-budgets tr[data-drive="team"] td:nth-child(4)', { hasText: "no budget" }).waitFor();
    expect(await team.locator("td:nth-child(2)").textContent()).toBe("none");

    // Remove: back to the default $2 (team no longer listed: it has no budget of its own).
    await team.locator('button[data-action="remove-drive-budget"]').click();
    await team.waitFor({ state: "detached" });
    expect(await new SpendStore(store.db).holderBudgets("drive", ["team"])).toEqual([]);
    expect(await page.locator('#drive-budgets tr[data-drive="partners"] button').count()).toBe(0);
  });

  it("the Spend card says when the daily budget is past its warning share, and its meter turns at that share", async () => {
    await openOverview();
    expect(await page.locator("#spend-meter").getAttribute("high")).toBe("0.75");
    expect(await page.locator("#spend-headline").textContent()).toBe("last 24 hours: $1.50 in 1 run of a $5.00 daily budget: $3.50 left");
    await store.db.query("INSERT INTO ph_run_costs (task_id, attempt, task_type, cost_usd, recorded_at, worker_id) VALUES ('t2', 1, 'claude-code', 2.5, now(), 'w')");
    await openOverview();
    const headline = page.locator("#spend-headline");
    expect(await headline.textContent()).toBe("last 24 hours: $4.00 in 2 runs of a $5.00 daily budget: $1.00 left — past the 75 % warning (TASK_BUDGET_WARN_AT_PERCENT)");
    expect(await headline.getAttribute("class")).toBe("warning-text");
    await store.db.query("DELETE FROM ph_run_costs WHERE task_id = 't2'");
  });

  it("a token refused as the form is sent asks for another, and sets nothing", async () => {
    await openOverview();
    await page.evaluate(() => localStorage.setItem("ph-tasks-token", "a-token-the-agent-does-not-know"));
    try {
      const form = page.locator("#drive-budget-form");
      await form.locator("input[name=drive]").fill("refused");
      await form.locator("input[name=usd]").fill("3");
      await form.locator("button[type=submit]").click();
      await page.locator("#token-input").waitFor();
      expect(await page.locator("#token-error").textContent()).toBe("The token was refused.");
      expect(await new SpendStore(store.db).holderBudgets("drive", ["refused"])).toEqual([]);
    } finally {
      await page.evaluate((token) => localStorage.setItem("ph-tasks-token", token), ALICE_TOKEN);
    }
  });

  it("the read-only token sees the list, not the form or the buttons", async () => {
    await new SpendStore(store.db).setHolderBudget({ kind: "drive", id: "guests" }, 0.5, "", "alice");
    await page.evaluate((token) => localStorage.setItem("ph-tasks-token", token), READ_TOKEN);
    try {
      await openOverview();
      await page.locator("body.read-only").waitFor();
      await page.locator('#drive-budgets tr[data-drive="guests"]').waitFor();
      expect(await page.locator("#drive-budget-form").isVisible()).toBe(false);
      expect(await page.locator('#drive-budgets tr[data-drive="guests"] button').isVisible()).toBe(false);
    } finally {
      await page.evaluate((token) => localStorage.setItem("ph-tasks-token", token), ALICE_TOKEN);
    }
  });
});
