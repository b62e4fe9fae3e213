/**
 * The spend as people read it: GET /api/spend (its query checked, naming the field), `ph-tasks
 * spend` (the last 24 hours against the budget, each day by type, the costliest tasks), the
 * metrics' gauge and counter, and the settings' errors.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { TaskStore } from "../src/store/task-store.js";
import { SpendBudget } from "../src/tasks/spend-budget.js";
import { SpendStore } from "../src/store/spend-store.js";
import { silentLogger } from "../src/logger.js";
import { TaskMetrics } from "../src/metrics.js";
import { serveApi, TEST_TOKEN } from "./support/api-server.js";
import { testManager } from "./support/manager.js";

function cli(url: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.resolve("bin/ph-tasks.js"), ...args], { encoding: "utf8", env: { ...process.env, PH_TASKS_URL: url, API_TOKEN: TEST_TOKEN } }, (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
  });
}

describe("the spend over HTTP and from the CLI", () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  async function agentWith(budgetUsdPerDay?: number, budgetUsdPerDrivePerDay?: number) {
    const store = await TaskStore.open({});
    const manager = testManager(store, { ...(budgetUsdPerDay !== undefined ? { budgetUsdPerDay } : {}), ...(budgetUsdPerDrivePerDay !== undefined ? { budgetUsdPerDrivePerDay } : {}) });
    const http = await serveApi(manager);
    closers.push(() => store.close(), () => manager.stop(0), () => http.close());
    // `driveId`: a run that drive's writers asked for (a task document's there).
    const cost = (taskId: string, type: string, usd: number, hoursAgo = 0, driveId: string | null = null) =>
      store.db.query("INSERT INTO ph_run_costs (task_id, attempt, task_type, drive_id, writers_drive, cost_usd, recorded_at, worker_id) VALUES ($1, 1, $2, $5, $5, $3, now() - make_interval(hours => $4), 'w')", [taskId, type, usd, hoursAgo, driveId]);
    return { store, manager, http, cost };
  }

  it("GET /api/spend: the last 24 hours against the budget, when it has room again, each day by type, the costliest tasks, the drives against theirs; a bad query names the field", async () => {
    const { manager, http, cost } = await agentWith(2, 1);
    const { task } = await manager.enqueueTask({ type: "cli", title: "the dear one", command: "true" });
    await cost(task.id, "claude-code", 1.5, 2, "team-drive");
    await cost("gone", "claude-agent", 0.75, 1);
    await cost("older", "claude-code", 4, 30); // out of the 24 hours, in the days
    const spend = (await (await http.api("/api/spend?days=3")).json()) as Record<string, unknown>;
    expect(spend).toMatchObject({ budgetUsdPerDay: 2, last24h: { usd: 2.25, runs: 2 }, remainingUsd: 0 });
    expect(Date.parse(String(spend.resumesAt)) - Date.now()).toBeGreaterThan(22 * 3_600_000 - 60_000); // when the 1.50 leaves: 22 hours
    expect(spend.costliest).toEqual([
      { taskId: task.id, type: "claude-code", title: "the dear one", usd: 1.5, runs: 1 },
      { taskId: "gone", type: "claude-agent", title: null, usd: 0.75, runs: 1 },
    ]);
    // team-drive's writers spent 1.50 of their 1.00: they wait until it leaves the window, 22 hours from now; the owner's own tasks have no drive budget.
    expect(spend.budgetUsdPerDrivePerDay).toBe(1);
    expect(spend.drives).toEqual([{ driveId: "team-drive", usd: 1.5, runs: 1, budgetUsd: 1, budgetSetting: "TASK_BUDGET_USD_PER_DRIVE_PER_DAY", resumesAt: expect.any(String) }, { driveId: null, usd: 0.75, runs: 1, budgetUsd: null, budgetSetting: null, resumesAt: null }]);
    const drives = spend.drives as { resumesAt: string }[];
    expect(Math.abs(Date.parse(drives[0]?.resumesAt ?? "") - (Date.now() + 22 * 3_600_000))).toBeLessThan(60_000);
    const days = spend.days as { usd: number; runs: number }[];
    expect(days.reduce((sum, d) => sum + d.usd, 0)).toBe(6.25);
    expect(days.reduce((sum, d) => sum + d.runs, 0)).toBe(3);

    const bad = await http.api("/api/spend?days=0");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: { field: string }[] }).errors).toEqual([expect.objectContaining({ field: "days" })]);
    const unknown = await http.api("/api/spend?day=3");
    expect(unknown.status).toBe(400);

    const metrics = await (await http.api("/metrics")).text();
    expect(metrics).toMatch(/^ph_tasks_spend_last_24h_usd 2\.25$/m);
  });

  it("ph-tasks spend prints the last 24 hours against the budget, the days and the costliest tasks; without a budget says so", async () => {
    const budgeted = await agentWith(5);
    await budgeted.cost("t-1", "claude-code", 1.25, 1, "drive-x");
    await budgeted.cost("t-2", "claude-agent", 0.004, 1);
    const out = await cli(budgeted.http.url, "spend");
    expect(out.stderr).toBe("");
    const lines = out.stdout.split("\n");
    expect(lines[0]).toBe("last 24 hours: $1.25 in 2 runs of a $5.00 daily budget: $3.75 left");
    expect(out.stdout).toMatch(/^DAY \(UTC\) +SPENT +RUNS +BY TYPE$/m);
    expect(out.stdout).toMatch(/claude-code \$1\.25, claude-agent \$0\.0040/);
    expect(out.stdout).toMatch(/^t-1 +claude-code +\$1\.25 +1 +\(removed\)$/m);
    expect(out.stdout).toMatch(/^by the drive whose writers asked, in the last 24 hours \(no budget per drive: TASK_BUDGET_USD_PER_DRIVE_PER_DAY\):\nDRIVE +SPENT +RUNS +BUDGET\n[- ]+\ndrive-x +\$1\.25 +1\n\(the owner's own: API, CLI, schedules, hooks\) +\$0\.0040 +1$/m);

    // Past the warning share (80 % unless TASK_BUDGET_WARN_AT_PERCENT says otherwise): said, with what is left.
    await budgeted.cost("t-6", "claude-code", 2.8, 0);
    expect((await cli(budgeted.http.url, "spend")).stdout.split("\n")[0]).toBe("last 24 hours: $4.05 in 3 runs of a $5.00 daily budget: $0.95 left — past the 80 % warning (TASK_BUDGET_WARN_AT_PERCENT)");
    await budgeted.store.db.query("DELETE FROM ph_run_costs WHERE task_id = 't-6'");
    await budgeted.cost("t-3", "claude-code", 4, 0);
    expect((await cli(budgeted.http.url, "spend")).stdout.split("\n")[0]).toMatch(/^last 24 hours: \$5\.25 in 3 runs of a \$5\.00 daily budget: spent — Claude tasks wait until 20\d\d-/);
    expect(JSON.parse((await cli(budgeted.http.url, "spend", "--json")).stdout)).toMatchObject({ budgetUsdPerDay: 5, remainingUsd: 0 });

    // With a budget per drive: a drive past it says until when its writers' Claude tasks wait.
    const perDrive = await agentWith(undefined, 1);
    await perDrive.cost("t-4", "claude-code", 2, 3, "drive-y");
    await perDrive.cost("t-5", "claude-code", 0.5, 1, "drive-z");
    expect((await cli(perDrive.http.url, "spend")).stdout).toMatch(/^by the drive whose writers asked, in the last 24 hours, each against a \$1\.00 budget \(TASK_BUDGET_USD_PER_DRIVE_PER_DAY\):\nDRIVE +SPENT +RUNS +BUDGET\n[- ]+\ndrive-y +\$2\.00 +1 +spent — waits until 20\d\d-\d\d-\d\dT[\d:.]+Z\ndrive-z +\$0\.50 +1 +\$0\.50 left of \$1\.00$/m);

    const free = await agentWith();
    expect((await cli(free.http.url, "spend")).stdout).toBe("last 24 hours: $0.00 in 0 runs (no daily budget: TASK_BUDGET_USD_PER_DAY)\n\nnothing spent in these days\n");
    const bad = await cli(free.http.url, "spend", "--days", "many");
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("days");
  });

  it("a run's cost counts in the metrics of the worker that recorded it", async () => {
    const store = await TaskStore.open({});
    closers.push(() => store.close());
    const metrics = new TaskMetrics({ store, budgetUsdPerDay: 20 });
    const budget = new SpendBudget(new SpendStore(store.db), "w", undefined, silentLogger(), metrics);
    await budget.record({ id: "a", type: "claude-code" }, 1, { totalCostUsd: 0.5 });
    await budget.record({ id: "a", type: "claude-code" }, 1, { totalCostUsd: 0.5 }); // the same run: once
    await budget.record({ id: "b", type: "claude-agent" }, 1, { costUsd: 0.25, totalCostUsd: 0.25 });
    await budget.record({ id: "c", type: "cli" }, 1, { exitCode: 0 }); // no cost
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^ph_tasks_run_cost_usd_total\{type="claude-code"\} 0\.5$/m);
    expect(text).toMatch(/^ph_tasks_run_cost_usd_total\{type="claude-agent"\} 0\.25$/m);
    expect(text).toMatch(/^ph_tasks_spend_last_24h_usd 0\.75$/m);
    expect(text).toMatch(/^ph_tasks_budget_usd_per_day 20$/m);
    // No budget: NaN, so that an alert on spend / budget stays quiet.
    expect(await new TaskMetrics({ store }).registry.metrics()).toMatch(/^ph_tasks_budget_usd_per_day Nan$/m);
  });

  it("the budgets' settings are checked, naming the variable and what is allowed", () => {
    expect(loadConfig({ TASK_BUDGET_USD_PER_DAY: "12.50", CLAUDE_MAX_BUDGET_USD: "0.5" })).toMatchObject({ TASK_BUDGET_USD_PER_DAY: 12.5, CLAUDE_MAX_BUDGET_USD: 0.5 });
    expect(() => loadConfig({ TASK_BUDGET_USD_PER_DAY: "ten" })).toThrow(/TASK_BUDGET_USD_PER_DAY: must be an amount in US dollars between 0 and 1000000, e\.g\. 5 or 0\.50 \(got "ten"\)/);
    expect(() => loadConfig({ TASK_BUDGET_USD_PER_DAY: "0" })).toThrow(/TASK_BUDGET_USD_PER_DAY: must be more than 0/);
    expect(() => loadConfig({ CLAUDE_MAX_BUDGET_USD: "$5" })).toThrow(/CLAUDE_MAX_BUDGET_USD: must be an amount in US dollars/);
    expect(loadConfig({ TASK_BUDGET_USD_PER_DRIVE_PER_DAY: "2", TASK_DRIVE_BUDGETS_USD_PER_DAY: " team-drive=20 , guests=0.50" })).toMatchObject({ TASK_BUDGET_USD_PER_DRIVE_PER_DAY: 2, TASK_DRIVE_BUDGETS_USD_PER_DAY: { "team-drive": 20, guests: 0.5 } });
    expect(loadConfig({}).TASK_DRIVE_BUDGETS_USD_PER_DAY).toEqual({});
    expect(() => loadConfig({ TASK_BUDGET_USD_PER_DRIVE_PER_DAY: "-1" })).toThrow(/TASK_BUDGET_USD_PER_DRIVE_PER_DAY: must be an amount in US dollars/);
    for (const bad of ["team-drive", "team-drive=0", "team-drive=lots", "=5"]) {
      expect(() => loadConfig({ TASK_DRIVE_BUDGETS_USD_PER_DAY: `guests=1,${bad}` })).toThrow(new RegExp(`TASK_DRIVE_BUDGETS_USD_PER_DAY: each entry must be a drive id, '=' and an amount in US dollars .*; '${bad}' is not`));
    }
    // A person's budget: named as API_USERS names people.
    expect(loadConfig({ TASK_BUDGET_USD_PER_PERSON_PER_DAY: "5", TASK_PERSON_BUDGETS_USD_PER_DAY: "alice=20, intern@team=0.5" })).toMatchObject({ TASK_BUDGET_USD_PER_PERSON_PER_DAY: 5, TASK_PERSON_BUDGETS_USD_PER_DAY: { alice: 20, "intern@team": 0.5 } });
    expect(loadConfig({}).TASK_PERSON_BUDGETS_USD_PER_DAY).toEqual({});
    expect(() => loadConfig({ TASK_BUDGET_USD_PER_PERSON_PER_DAY: "none" })).toThrow(/TASK_BUDGET_USD_PER_PERSON_PER_DAY: must be an amount in US dollars/);
    for (const bad of ["-bob=1", "bob=0", "bob", "bob/x=2"]) {
      expect(() => loadConfig({ TASK_PERSON_BUDGETS_USD_PER_DAY: `alice=1,${bad}` })).toThrow(new RegExp(`TASK_PERSON_BUDGETS_USD_PER_DAY: each entry must be a person's name \\(1 to 64 letters.*\\), '=' and an amount in US dollars .*; '${bad}' is not`));
    }
  });
});
