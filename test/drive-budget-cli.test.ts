/**
 * `ph-tasks budget` on a real agent (startAgent, the real claude binary against the Messages-API
 * stand-in: a call of a million input tokens costs $3): a budget set by a named person holds a task
 * document's Claude run at once, and its document and the run's error name who set it; raised, the
 * run that waits for it starts at once; listed with what the drive spent; removed, the setting
 * holds it again. The read-only token may list, not set; bad input names the field and the value;
 * the audit log has who set it.
 */
import { mkdirSync, mkdtempSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Agent } from "../src/agent.js";
import { addTaskDocument, getTaskDocumentState } from "../src/reactor/documents.js";
import type { StandIn } from "./support/anthropic-stand-in.js";
import { startBudgetAgent, type BudgetAgent } from "./support/budget-agent.js";
import { phTasks } from "./support/ph-tasks-cli.js";
import { waitFor } from "./support/process.js";

const API_TOKEN = "drive-budget-cli-admin-token-0123";
const ALICE_TOKEN = "alice-budget-token-0123456789";
const READ_TOKEN = "drive-budget-cli-read-token-0123";
const root = realpathSync(mkdtempSync(path.join(tmpdir(), "ph-budget-cli-")));
const project = path.join(root, "project");
mkdirSync(project);

describe("ph-tasks budget on a real agent", () => {
  let standIn: StandIn;
  let agent: Agent;
  let running: BudgetAgent;
  const as = (token: string) => running.as(token);

  beforeAll(async () => {
    running = await startBudgetAgent(root, { admin: API_TOKEN, alice: ALICE_TOKEN, read: READ_TOKEN }, { TASK_BUDGET_USD_PER_DRIVE_PER_DAY: "1" });
    ({ agent, standIn } = running);
  });
  afterAll(() => running.close());

  it("set by alice, a document's run stops at it and waits saying who set it; raised, it runs at once; listed, removed", async () => {
    const drive = agent.localDriveId;
    expect((await phTasks(["budget"], as(API_TOKEN))).stdout).toBe("all runs: no daily budget; $0.00 spent in the last 24 hours\nno drive has a budget of its own; other drives: $1.00 each (TASK_BUDGET_USD_PER_DRIVE_PER_DAY)\n");

    const set = await phTasks(["budget", "set", drive, "0.25", "--reason", "trial week"], as(ALICE_TOKEN));
    expect(set).toMatchObject({ status: 0, stderr: "" });
    expect(set.stdout).toBe(`drive ${drive}: a daily budget of $0.25, set by alice: trial week; $0.00 spent in the last 24 hours ($0.25 left)\n`);

    // One call of $3: past the quarter, claude stops; the retry waits for the drive's budget.
    standIn.enqueue({ kind: "tool_use", name: "Bash", input: { command: "true" }, inputTokens: 1_000_000 }, { kind: "text", text: "never asked for" });
    const doc = await addTaskDocument(agent.reactor, drive, { spec: { title: "Dear", taskType: "claude-code", params: { prompt: "spend", projectPath: project } }, requestRun: true });
    const told = await waitFor(async () => {
      const state = await getTaskDocumentState(agent.reactor, doc);
      return state.notices.find((n) => n.message.startsWith("waits: its drive's daily budget is spent")) ? state : undefined;
    }, 90_000, "the document to say it waits for its drive's budget");
    expect(told.notices.find((n) => n.message.startsWith("waits:"))?.message).toMatch(new RegExp(`^waits: its drive's daily budget is spent \\(\\$3\\.00 of \\$0\\.25 in the last 24 hours by drive ${drive}'s writers; set by alice \\(ph-tasks budget\\)\\); it starts at 20\\d\\d-`));
    const taskId = told.currentTaskId ?? "";
    const shown = await phTasks(["show", taskId, "--json"], as(API_TOKEN));
    expect((JSON.parse(shown.stdout) as { error: { message: string } }).error.message).toBe("claude stopped at what was left of its drive's daily budget ($0.25, set by alice (ph-tasks budget)) before finishing");

    // Raised to $10 (the admin's token): the waiting run starts now, capped at the $7 left.
    standIn.reset();
    standIn.enqueue({ kind: "text", text: "done under the new budget" });
    const raised = await phTasks(["budget", "set", drive, "10"], as(API_TOKEN));
    expect(raised.stdout).toBe(`drive ${drive}: a daily budget of $10.00, set by API_TOKEN; $3.00 spent in the last 24 hours ($7.00 left)\n`);
    const done = await waitFor(async () => {
      const state = await getTaskDocumentState(agent.reactor, doc);
      return state.status === "completed" ? state : undefined;
    }, 60_000, "the document's run to complete under the raised budget");
    expect(done.status).toBe("completed");
    const ran = JSON.parse((await phTasks(["show", taskId, "--json"], as(API_TOKEN))).stdout) as { result: { text: string; maxBudgetUsd: number } };
    expect(ran.result.text).toBe("done under the new budget");
    expect(ran.result.maxBudgetUsd).toBeCloseTo(7, 2);

    // Listed (the read-only token may), with what the drive spent.
    const list = await phTasks(["budget", "list"], as(READ_TOKEN));
    expect(list.stdout).toMatch(new RegExp(`^all runs: no daily budget; \\$3\\.\\d\\d spent in the last 24 hours\\nDRIVE +PER DAY +SPENT \\(24H\\) +NOW +SET BY +REASON\\n[- ]+\\n${drive} +\\$10\\.00 +\\$3\\.\\d\\d +\\$[67]\\.\\d\\d left +API_TOKEN 20\\d\\d-\\S+ *\\nother drives: \\$1\\.00 each \\(TASK_BUDGET_USD_PER_DRIVE_PER_DAY\\)\\n$`));
    // What the drive's writers alone spent: its budget, its days, its costliest (the document's task).
    const drives = await phTasks(["spend", "--drive", drive], as(READ_TOKEN));
    expect(drives.stdout).toMatch(new RegExp(`^drive ${drive}: a daily budget of \\$10\\.00, set by API_TOKEN; \\$3\\.\\d\\d spent in the last 24 hours \\(\\$[67]\\.\\d\\d left\\)\\n\\nDAY \\(UTC\\)`));
    expect(drives.stdout).toContain(taskId);
    const badDrive = await phTasks(["spend", "--drive", "a b"], as(READ_TOKEN));
    expect(badDrive.status).not.toBe(0);
    expect(badDrive.stderr).toMatch(/drive.*must be a drive id/);
    const json = JSON.parse((await phTasks(["budget", "--json"], as(READ_TOKEN))).stdout) as { defaultUsdPerDay: number; drives: Record<string, unknown>[] };
    expect(json).toMatchObject({ defaultUsdPerDay: 1, drives: [{ driveId: drive, usdPerDay: 10, setBy: "API_TOKEN", reason: "", settingsUsd: 1, runs: 2 }] });

    // The read-only token may not set one; the audit log has who did.
    const refused = await phTasks(["budget", "set", drive, "100"], as(READ_TOKEN));
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/403|read-only|may only read/i);
    const budgetPath = `PUT /api/budgets/drives/${encodeURIComponent(drive)}`;
    const audited = await waitFor(async () => {
      const audit = await fetch(`${agent.url}/api/audit`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
      const entries = ((await audit.json()) as { entries: { actor: string; action: string; outcome: string }[] }).entries.filter((e) => e.action === budgetPath);
      return entries.length === 3 ? entries : undefined; // written in the background
    }, 10_000, "the three budget changes asked for in the audit log");
    expect(audited.map((e) => [e.actor, e.outcome]).sort()).toEqual([["API_READ_TOKEN", "403"], ["API_TOKEN", "200"], ["alice", "200"]]);

    // Removed: the setting's dollar holds the drive again (spent: until when); removed again: nothing to remove.
    const removed = await phTasks(["budget", "remove", drive], as(API_TOKEN));
    expect(removed.stdout).toMatch(new RegExp(`^removed; drive ${drive}: a daily budget of \\$1\\.00 \\(TASK_BUDGET_USD_PER_DRIVE_PER_DAY\\); \\$3\\.\\d\\d spent in the last 24 hours \\(spent — waits until 20\\d\\d-\\S+\\)\\n$`));
    const again = await phTasks(["budget", "remove", drive], as(API_TOKEN));
    expect(again.status).not.toBe(0);
    expect(again.stderr).toContain(`drive '${drive}' has no budget set with ph-tasks budget`);
  }, 180_000);

  it("bad input names the field and the value, and changes nothing", async () => {
    const lots = await phTasks(["budget", "set", "team", "lots"], as(API_TOKEN));
    expect(lots.status).not.toBe(0);
    expect(lots.stderr).toContain("usd: expected an amount in US dollars per 24 hours like 2.50 (more than 0), or 'none' for no budget at all; got 'lots'");
    const spaced = await phTasks(["budget", "set", "a b", "1"], as(API_TOKEN));
    expect(spaced.status).not.toBe(0);
    expect(spaced.stderr).toMatch(/drive.*must be a drive id: no spaces, commas or '='/);
    const response = await fetch(`${agent.url}/api/budgets/drives/team`, { method: "PUT", headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" }, body: JSON.stringify({ usdPerDay: 0 }) });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: "validation_failed", errors: [{ field: "usdPerDay", value: "0", message: expect.stringContaining("more than 0 and at most 1000000") }] });
    // One drive's, whatever gives it (the default here), as the read-only token may read it; a bad id named.
    const one = await fetch(`${agent.url}/api/budgets/drives/team`, { headers: { authorization: `Bearer ${READ_TOKEN}` } });
    expect(await one.json()).toMatchObject({ drive: { driveId: "team", usdPerDay: 1, setting: "TASK_BUDGET_USD_PER_DRIVE_PER_DAY", setBy: null, spentUsd: 0, remainingUsd: 1 }, warning: null });
    const badId = await fetch(`${agent.url}/api/budgets/drives/a%20b`, { headers: { authorization: `Bearer ${READ_TOKEN}` } });
    expect(badId.status).toBe(400);
    expect(await badId.json()).toMatchObject({ errors: [{ field: "drive", value: '"a b"' }] });
    const listed = JSON.parse((await phTasks(["budget", "--json"], as(API_TOKEN))).stdout) as { drives: { driveId: string }[] };
    expect(listed.drives.map((d) => d.driveId)).not.toContain("team");
  });
});
