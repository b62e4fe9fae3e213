/**
 * `ph-tasks budget daily` on a real agent (startAgent, the real claude binary against the
 * Messages-API stand-in: a call of a million input tokens costs $3): a daily budget set by a named
 * person holds the next Claude run at once, over TASK_BUDGET_USD_PER_DAY — it stops at it and
 * waits, both saying who set it; raised, the run that waits starts at once; shown with what was
 * spent, in `ph-tasks budget` and `ph-tasks spend` too; removed, the setting holds again. The
 * read-only token may read, not set; bad input names the field and the value; the audit log has
 * who set it.
 */
import { mkdirSync, mkdtempSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Agent } from "../src/agent.js";
import type { StandIn } from "./support/anthropic-stand-in.js";
import { startBudgetAgent, type BudgetAgent } from "./support/budget-agent.js";
import { phTasks } from "./support/ph-tasks-cli.js";
import { waitFor } from "./support/process.js";

const API_TOKEN = "daily-budget-cli-admin-token-0123";
const ALICE_TOKEN = "alice-daily-budget-token-0123456";
const READ_TOKEN = "daily-budget-cli-read-token-0123";
const root = realpathSync(mkdtempSync(path.join(tmpdir(), "ph-daily-budget-cli-")));
const project = path.join(root, "project");
mkdirSync(project);

interface ShownTask { status: string; attempts: number; error?: { code: string; message: string }; waiting?: { code: string; message: string }; result?: { text: string; maxBudgetUsd: number } }

describe("ph-tasks budget daily on a real agent", () => {
  let standIn: StandIn;
  let agent: Agent;
  let running: BudgetAgent;
  const as = (token: string) => running.as(token);
  const shown = async (id: string) => JSON.parse((await phTasks(["show", id, "--json"], as(API_TOKEN))).stdout) as ShownTask;

  beforeAll(async () => {
    running = await startBudgetAgent(root, { admin: API_TOKEN, alice: ALICE_TOKEN, read: READ_TOKEN }, { TASK_BUDGET_USD_PER_DAY: "5" });
    ({ agent, standIn } = running);
  });
  afterAll(() => running.close());

  it("set by alice, a run stops at it and waits saying who set it; raised, it runs at once; shown, removed", async () => {
    expect((await phTasks(["budget", "daily"], as(API_TOKEN))).stdout).toBe("all runs: a daily budget of $5.00 (TASK_BUDGET_USD_PER_DAY); $0.00 spent in the last 24 hours ($5.00 left)\n");

    const set = await phTasks(["budget", "daily", "set", "0.25", "--reason", "trial week"], as(ALICE_TOKEN));
    expect(set).toMatchObject({ status: 0, stderr: "" });
    expect(set.stdout).toBe("all runs: a daily budget of $0.25, set by alice: trial week; $0.00 spent in the last 24 hours ($0.25 left)\n");

    // One call of $3: past the quarter, claude stops; the retry waits for the daily budget.
    standIn.enqueue({ kind: "tool_use", name: "Bash", input: { command: "true" }, inputTokens: 1_000_000 }, { kind: "text", text: "never asked for" });
    const submitted = await phTasks(["submit", "claude-code", "--prompt", "spend", "--project", project, "--json"], as(API_TOKEN));
    expect(submitted.status).toBe(0);
    const taskId = (JSON.parse(submitted.stdout) as { id: string }).id;
    const waiting = await waitFor(async () => {
      const task = await shown(taskId);
      return task.waiting?.code === "over_budget" ? task : undefined;
    }, 90_000, "the run to wait for the daily budget");
    expect(waiting).toMatchObject({ status: "pending", attempts: 1, error: { code: "over_budget", message: "claude stopped at what was left of the daily budget ($0.25, set by alice (ph-tasks budget)) before finishing" } });
    expect(waiting.waiting?.message).toMatch(/^the daily budget is spent \(\$3\.00 of \$0\.25 in the last 24 hours; set by alice \(ph-tasks budget\)\); runs that cost money start again at 20\d\d-/);
    expect((await phTasks(["spend"], as(READ_TOKEN))).stdout).toMatch(/^last 24 hours: \$3\.00 in 1 run of a \$0\.25 daily budget \(set by alice \(ph-tasks budget\)\): spent — Claude tasks wait until 20\d\d-/);

    // Raised to $10 (the admin's token): the waiting run starts now, capped at the $7 left.
    standIn.reset();
    standIn.enqueue({ kind: "text", text: "done under the new budget" });
    const raised = await phTasks(["budget", "daily", "set", "10"], as(API_TOKEN));
    expect(raised.stdout).toBe("all runs: a daily budget of $10.00, set by API_TOKEN; $3.00 spent in the last 24 hours ($7.00 left)\n");
    const done = await waitFor(async () => {
      const task = await shown(taskId);
      return task.status === "completed" ? task : undefined;
    }, 60_000, "the run to complete under the raised budget");
    expect(done.result?.text).toBe("done under the new budget");
    expect(done.result?.maxBudgetUsd).toBeCloseTo(7, 2);

    // Shown (the read-only token may) in `budget` above the drives, and as JSON with what the setting gives.
    const listed = await phTasks(["budget"], as(READ_TOKEN));
    expect(listed.stdout).toMatch(/^all runs: a daily budget of \$10\.00, set by API_TOKEN; \$3\.\d\d spent in the last 24 hours \(\$[67]\.\d\d left\)\nno drive has a budget of its own; no budget for other drives \(TASK_BUDGET_USD_PER_DRIVE_PER_DAY\)\n$/);
    expect(JSON.parse((await phTasks(["budget", "daily", "--json"], as(READ_TOKEN))).stdout)).toMatchObject({ usdPerDay: 10, setting: "set by API_TOKEN (ph-tasks budget)", setBy: "API_TOKEN", reason: "", settingsUsd: 5, runs: 2 });

    // The read-only token may not set it; the audit log has who did.
    const refused = await phTasks(["budget", "daily", "set", "100"], as(READ_TOKEN));
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/403|read-only|may only read/i);
    const audited = await waitFor(async () => {
      const audit = await fetch(`${agent.url}/api/audit`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
      const entries = ((await audit.json()) as { entries: { actor: string; action: string; outcome: string }[] }).entries.filter((e) => e.action === "PUT /api/budgets/daily");
      return entries.length === 3 ? entries : undefined; // written in the background
    }, 10_000, "the three budget changes asked for in the audit log");
    expect(audited.map((e) => [e.actor, e.outcome]).sort()).toEqual([["API_READ_TOKEN", "403"], ["API_TOKEN", "200"], ["alice", "200"]]);

    // Removed: the setting's $5 holds again; removed again: nothing to remove.
    const removed = await phTasks(["budget", "daily", "remove"], as(API_TOKEN));
    expect(removed.stdout).toMatch(/^removed; all runs: a daily budget of \$5\.00 \(TASK_BUDGET_USD_PER_DAY\); \$3\.\d\d spent in the last 24 hours \(\$[12]\.\d\d left\)\n$/);
    const again = await phTasks(["budget", "daily", "remove"], as(API_TOKEN));
    expect(again.status).not.toBe(0);
    expect(again.stderr).toContain("no daily budget is set with ph-tasks budget daily");
  }, 180_000);

  it("bad input names the field and the value, and changes nothing", async () => {
    const lots = await phTasks(["budget", "daily", "set", "lots"], as(API_TOKEN));
    expect(lots.status).not.toBe(0);
    expect(lots.stderr).toContain("usd: expected an amount in US dollars per 24 hours like 2.50 (more than 0), or 'none' for no budget at all; got 'lots'");
    const response = await fetch(`${agent.url}/api/budgets/daily`, { method: "PUT", headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" }, body: JSON.stringify({ usdPerDay: 0 }) });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: "validation_failed", errors: [{ field: "usdPerDay", value: "0", message: expect.stringContaining("more than 0 and at most 1000000") }] });
    expect(JSON.parse((await phTasks(["budget", "daily", "--json"], as(API_TOKEN))).stdout)).toMatchObject({ usdPerDay: 5, setting: "TASK_BUDGET_USD_PER_DAY", setBy: null });
  });
});
