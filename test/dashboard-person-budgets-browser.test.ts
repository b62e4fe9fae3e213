/**
 * The dashboard's Budgets card, its people part, in a real browser (Debian's chromium,
 * playwright-core): a person named in TASK_PERSON_BUDGETS_USD_PER_DAY is listed with that setting,
 * and the default for the others; a budget set for alice in its form (by bob's named token) is
 * stored as bob's with his reason and listed, spent and waiting while her runs cost more; a bad name
 * is refused naming the field and what was typed, storing nothing; Remove gives alice back to the
 * settings; the read-only token sees the list but neither the form nor the buttons; older workers
 * that do not read person budgets are named.
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

const TOKEN = "person-budgets-token-0123456789";
const BOB_TOKEN = "person-budgets-bob-0123456789";
const READ_TOKEN = "person-budgets-read-0123456789";

describeInChromium("the dashboard's person budgets (Budgets card)", () => {
  let store: TaskStore;
  let manager: TaskManager;
  let server: Server;
  let base: string;
  let browser: Browser;
  let page: Page;

  const openOverview = async () => {
    await page.goto(`${base}/?load=${Date.now()}#/`);
    await page.locator("#person-budgets-list").waitFor();
  };
  const stored = (person: string) => new SpendStore(store.db).holderBudgets("person", [person]);

  beforeAll(async () => {
    store = await TaskStore.open({});
    manager = testManager(store, { budgetUsdPerPersonPerDay: 2, personBudgetsUsdPerDay: { carol: 5 } });
    await manager.start();
    ({ server, url: base } = await listen(createApp({ manager, metrics: manager.metrics!, logger: silentLogger(), apiToken: TOKEN, readToken: READ_TOKEN, users: [{ name: "bob", token: BOB_TOKEN }] }), "127.0.0.1", 0, TOKEN));
    browser = await launchChromium();
    page = await dashboardPage(browser, base, BOB_TOKEN);
    // alice's runs spent $1.50 an hour ago (what the agent records for a task whose source.by is alice).
    await store.db.query("INSERT INTO ph_run_costs (task_id, attempt, task_type, cost_usd, recorded_at, worker_id, asked_by) VALUES ('t1', 1, 'claude-code', 1.5, now() - interval '1 hour', 'w', 'alice')");
  });

  afterAll(async () => {
    await closeDashboard({ browser, server, manager, store });
  });

  it("sets a person's budget from the form, lists it with who set it, refuses a bad name naming it, and removes it", async () => {
    await openOverview();
    // The named setting is listed (no Remove: it is changed in the settings), and the default for the others.
    expect(await page.locator("#drive-budgets-section h3").allTextContents()).toEqual(["All runs", "Each drive", "Each person"]);
    expect(await page.locator('#person-budgets tr[data-person="carol"] td').allTextContents()).toEqual(["carol", "$5.00", "$0.00", "$5.00 left", "TASK_PERSON_BUDGETS_USD_PER_DAY", ""]);
    expect(await page.locator("#person-budgets-list p.muted").textContent()).toBe("Other people: $2.00 a day each (TASK_BUDGET_USD_PER_PERSON_PER_DAY).");
    expect(await page.locator('#person-budgets tr[data-person="alice"]').count()).toBe(0);
    expect(await page.locator("#person-budgets-warning").count()).toBe(0);
    // Bob, signed in with his named token, sees his own budget though he has none of his own: the default's.
    expect(await page.locator("#my-budget").textContent()).toBe("Yours (bob): a daily budget of $2.00 (TASK_BUDGET_USD_PER_PERSON_PER_DAY); $0.00 spent in the last 24 hours — $2.00 left.");

    // A dollar for alice, by bob: below her $1.50, so she is spent.
    const form = page.locator("#person-budget-form");
    await form.locator("input[name=person]").fill("alice");
    await form.locator("input[name=usd]").fill("1");
    await form.locator("input[name=reason]").fill("too many reviews");
    await form.locator("button[type=submit]").click();
    const alice = page.locator('#person-budgets tr[data-person="alice"]');
    await alice.waitFor();
    const cells = await alice.locator("td").allTextContents();
    expect(cells.slice(0, 3)).toEqual(["alice", "$1.00", "$1.50"]);
    expect(cells[3]).toMatch(/^spent — waits until /);
    expect(cells[4]).toBe("bob — too many reviews");
    expect(await alice.getAttribute("class")).toBe("error-text");
    expect(await form.locator("input[name=person]").inputValue()).toBe(""); // the form was cleared
    expect(await stored("alice")).toMatchObject([{ holder: "alice", usd_per_day: 1, set_by: "bob", reason: "too many reviews" }]);
    // The Spend card's people say it too, against the $2 default unless their own.
    await openOverview();
    const spendRow = page.locator('#spend-people tr[data-by="alice"]');
    expect(await page.locator("#spend-people th").allTextContents()).toEqual(["Who", "Spent", "Runs", "Budget ($2.00 a day unless their own)"]);
    expect((await spendRow.locator("td").allTextContents()).slice(0, 3)).toEqual(["alice", "$1.50", "1"]);
    expect(await spendRow.locator("td:nth-child(4)").textContent()).toMatch(/^spent — waits until .* — set by bob \(ph-tasks budget\)$/);
    expect(await spendRow.getAttribute("class")).toBe("error-text");
    // The drives' part is untouched by it.
    expect(await page.locator('#drive-budgets tr[data-drive="alice"]').count()).toBe(0);
    await page.locator("#drive-budgets-section").screenshot({ path: path.join(ARTIFACTS, "dashboard-person-budgets.png") });

    // A bad name: refused naming the field and what was typed; nothing stored.
    await form.locator("input[name=person]").fill("bad name");
    await form.locator("input[name=usd]").fill("3");
    await form.locator("button[type=submit]").click();
    const error = page.locator("#person-budget-form-error");
    await error.filter({ hasText: /\S/ }).waitFor();
    expect(await error.textContent()).toBe(`person: must be 1 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit (got "bad name")`);
    expect(await stored("bad name")).toEqual([]);
    expect(await page.locator("#person-budgets tbody tr").count()).toBe(2);

    // A bad amount for alice: refused naming it; her dollar stays.
    await form.locator("input[name=person]").fill("alice");
    await form.locator("input[name=usd]").fill("lots");
    await form.locator("button[type=submit]").click();
    await error.filter({ hasText: /^usdPerDay: / }).waitFor();
    expect(await error.textContent()).toMatch(/\(got "lots"\)$/);
    expect((await stored("alice"))[0]?.usd_per_day).toBe(1);

    // "none": alice's runs are not held at all.
    await form.locator("input[name=usd]").fill("none");
    await form.locator("button[type=submit]").click();
    await page.locator('#person-budgets tr[data-person="alice"] td:nth-child(4)', { hasText: "no budget" }).waitFor();
    expect(await alice.locator("td:nth-child(2)").textContent()).toBe("none");
    expect(await alice.getAttribute("class")).toBe("");

    // Remove: back to the default $2 (alice no longer listed: she has no budget of her own).
    await alice.locator('button[data-action="remove-person-budget"]').click();
    await alice.waitFor({ state: "detached" });
    expect(await stored("alice")).toEqual([]);
    expect(await page.locator('#person-budgets tr[data-person="carol"] button').count()).toBe(0);
    const answer = (await (await fetch(`${base}/api/budgets/people`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json()) as { people: { person: string }[] };
    expect(answer.people.map((p) => p.person)).toEqual(["carol"]);
  });

  it("a token refused as the form is sent asks for another, and sets nothing", async () => {
    await openOverview();
    await page.evaluate(() => localStorage.setItem("ph-tasks-token", "a-token-the-agent-does-not-know"));
    try {
      const form = page.locator("#person-budget-form");
      await form.locator("input[name=person]").fill("dave");
      await form.locator("input[name=usd]").fill("3");
      await form.locator("button[type=submit]").click();
      await page.locator("#token-input").waitFor();
      expect(await page.locator("#token-error").textContent()).toBe("The token was refused.");
      expect(await stored("dave")).toEqual([]);
    } finally {
      await page.evaluate((token) => localStorage.setItem("ph-tasks-token", token), BOB_TOKEN);
    }
  });

  it("the read-only token sees the list, not the form or the buttons", async () => {
    await new SpendStore(store.db).setHolderBudget({ kind: "person", id: "erin" }, 0.5, "", "bob");
    await page.evaluate((token) => localStorage.setItem("ph-tasks-token", token), READ_TOKEN);
    try {
      await openOverview();
      await page.locator("body.read-only").waitFor();
      await page.locator('#person-budgets tr[data-person="erin"]').waitFor();
      expect(await page.locator('#person-budgets tr[data-person="erin"] td:nth-child(2)').textContent()).toBe("$0.50");
      expect(await page.locator("#person-budget-form").isVisible()).toBe(false);
      expect(await page.locator("#my-budget").count()).toBe(0); // the read token has no name: no "yours"
      expect(await page.locator('#person-budgets tr[data-person="erin"] button').isVisible()).toBe(false);
    } finally {
      await page.evaluate((token) => localStorage.setItem("ph-tasks-token", token), BOB_TOKEN);
    }
  });

  it("names the live workers that do not read person budgets", async () => {
    // A worker whose code knows migrations up to 046 (before person budgets), heard from just now.
    await store.db.query(`INSERT INTO ph_workers (worker_id, host, pid, version, state, max_concurrent, prefetch, lease_ms, types, started_at, schema_version, last_seen_at)
                          VALUES ('w-046', 'old-host', 42, '0.9.9', 'running', 2, 0, 30000, '{cli}', now() - interval '2 hours', 46, now())`);
    try {
      await openOverview();
      const warning = page.locator("#person-budgets-warning");
      await warning.waitFor();
      expect(await warning.textContent()).toBe("Warning: worker w-046 on old-host (agent 0.9.9) does not read budgets per person set while the agents run: it holds to its settings until upgraded.");
      // It reads drives' budgets (migration 042): nothing said there.
      expect(await page.locator("#drive-budgets-warning").count()).toBe(0);
    } finally {
      await store.db.query("DELETE FROM ph_workers WHERE worker_id = 'w-046'");
    }
  });
});
