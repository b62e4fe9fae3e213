/**
 * A budget per drive on a real agent (startAgent, TASK_BUDGET_USD_PER_DRIVE_PER_DAY) with the real
 * claude binary against the Messages-API stand-in (a call of a million input tokens costs $3): a
 * task document's Claude run is capped at its drive's dollar and stopped there; its retry goes
 * back to wait, and its document says why and until when; `ph-tasks show` and `ph-tasks spend` say
 * it too; the owner's own task (the API's) runs meanwhile, capped by the daily budget alone. Once
 * that is spent too, a task document asking for a run is told at once that it waits, and until when.
 */
import { mkdirSync, mkdtempSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAgent, type Agent } from "../src/agent.js";
import { loadConfig } from "../src/config.js";
import { silentLogger } from "../src/logger.js";
import { addTaskDocument, getTaskDocumentState } from "../src/reactor/documents.js";
import { startStandIn, type StandIn } from "./support/anthropic-stand-in.js";
import { phTasks } from "./support/ph-tasks-cli.js";
import { waitFor } from "./support/process.js";

const API_TOKEN = "drive-budget-admin-token-0123456789";
const root = realpathSync(mkdtempSync(path.join(tmpdir(), "ph-drive-budget-")));
const project = path.join(root, "project");
mkdirSync(project);

describe("a budget per drive on a real agent", () => {
  let standIn: StandIn;
  let agent: Agent;
  const call = async (method: string, url: string, body?: unknown) => {
    const response = await fetch(`${agent.url}${url}`, { method, headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    standIn = await startStandIn();
    const dataDir = mkdtempSync(path.join(root, "agent-"));
    const env = {
      TASK_DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "silent", API_TOKEN, TASK_ALLOWED_ROOTS: root, ANTHROPIC_API_KEY: "sk-ant-test-key", ANTHROPIC_BASE_URL: standIn.url,
      TASK_SHUTDOWN_GRACE_MS: "100", TASK_KILL_GRACE_MS: "500", TASK_RETRY_BASE_MS: "100", TASK_RETRY_MAX_MS: "200",
      TASK_BUDGET_USD_PER_DRIVE_PER_DAY: "1", TASK_BUDGET_USD_PER_DAY: "3.5",
    };
    agent = await startAgent(loadConfig(env, dataDir), { logger: silentLogger(), reactorStorage: { kind: "memory" }, rules: [] });
  });
  afterAll(async () => {
    await agent.stop();
    await standIn.close();
  });

  it("a document's run stops at its drive's dollar; its retry waits, and the document, ph-tasks show and ph-tasks spend say until when; the owner's task runs", async () => {
    // One call of $3: past the drive's dollar, claude stops (it would have made a second call).
    standIn.enqueue({ kind: "tool_use", name: "Bash", input: { command: "true" }, inputTokens: 1_000_000 }, { kind: "text", text: "never asked for" });
    const doc = await addTaskDocument(agent.reactor, agent.localDriveId, { spec: { title: "Dear", taskType: "claude-code", params: { prompt: "spend", projectPath: project } }, requestRun: true });
    const told = await waitFor(async () => {
      const state = await getTaskDocumentState(agent.reactor, doc);
      return state.notices.find((n) => n.message.startsWith("waits: its drive's daily budget is spent")) ? state : undefined;
    }, 90_000, "the document to say it waits for its drive's budget");
    const notice = told.notices.find((n) => n.message.startsWith("waits:"));
    expect(notice?.level).toBe("warning");
    expect(notice?.message).toMatch(new RegExp(`^waits: its drive's daily budget is spent \\(\\$3\\.00 of \\$1\\.00 in the last 24 hours by drive ${agent.localDriveId}'s writers; TASK_BUDGET_USD_PER_DRIVE_PER_DAY\\); it starts at 20\\d\\d-`));
    const taskId = told.currentTaskId ?? "";
    expect(standIn.requests).toHaveLength(1); // the retry never called the model

    const { json } = await call("GET", `/api/tasks/${taskId}`);
    const task = json.task as { status: string; attempts: number; error?: { code: string; message: string }; waiting?: { code: string; until: string } };
    // The first run was stopped at the drive's rest (an attempt); the retry went back without one.
    expect(task).toMatchObject({ status: "pending", attempts: 1, error: { code: "over_budget" }, waiting: { code: "drive_over_budget" } });
    expect(task.error?.message).toBe("claude stopped at what was left of its drive's daily budget ($1.00, TASK_BUDGET_USD_PER_DRIVE_PER_DAY) before finishing");
    expect(Math.abs(Date.parse(task.waiting?.until ?? "") - (Date.now() + 24 * 3_600_000))).toBeLessThan(120_000);

    const client = { PH_TASKS_URL: agent.url, API_TOKEN };
    const shown = await phTasks(["show", taskId], client);
    expect(shown.stdout).toMatch(/^waiting: +its drive's daily budget is spent \(\$3\.00 of \$1\.00/m);
    const spend = await phTasks(["spend"], client);
    expect(spend.stdout).toMatch(new RegExp(`^${agent.localDriveId} +\\$3\\.00 +1 +spent — waits until 20\\d\\d-`, "m"));

    const metrics = await (await fetch(`${agent.url}/metrics`, { headers: { authorization: `Bearer ${API_TOKEN}` } })).text();
    expect(metrics).toMatch(/^ph_tasks_drive_budget_waits_total\{type="claude-code"\} 1$/m);
    expect(metrics).toMatch(/^ph_tasks_budget_usd_per_drive_per_day 1$/m);
    expect(metrics).toMatch(/^ph_tasks_drives_over_budget 1$/m); // this drive, recorded spent

    // The owner's own task (the API's: its task document in a local drive too) is not the drive's writers': it runs.
    standIn.reset(); // (the reply claude never asked for must not answer this run)
    standIn.enqueue({ kind: "text", text: "cheap" });
    const owner = await call("POST", "/api/tasks", { type: "claude-code", title: "Owner's", prompt: "hello", projectPath: project });
    expect(owner.status).toBe(201);
    const ownerId = (owner.json.task as { id: string }).id;
    const ended = await waitFor(async () => {
      const { json: now } = await call("GET", `/api/tasks/${ownerId}`);
      const t = now.task as { status: string; result?: Record<string, unknown> };
      return t.status === "completed" || t.status === "failed" ? t : undefined;
    }, 60_000, "the owner's task to end");
    expect(ended).toMatchObject({ status: "completed", result: { text: "cheap" } });
    expect(ended.result?.maxBudgetUsd).toBeCloseTo(0.5, 2); // what is left of the daily $3.50, not the drive's (spent)
  }, 150_000);

  it("the daily budget spent: a task document asking for a run is told at once that it waits, and until when", async () => {
    // The owner's dear run spends the rest of the day's $3.50 (stopped at it: retried, then held with every Claude task).
    standIn.reset();
    standIn.enqueue({ kind: "tool_use", name: "Bash", input: { command: "true" }, inputTokens: 1_000_000 }, { kind: "text", text: "never asked for" });
    const before = standIn.requests.length;
    const dear = await call("POST", "/api/tasks", { type: "claude-code", title: "Owner's dear", prompt: "spend", projectPath: project });
    const dearId = (dear.json.task as { id: string }).id;
    await waitFor(async () => {
      const t = (await call("GET", `/api/tasks/${dearId}`)).json.task as { waiting?: { code: string } };
      return t.waiting?.code === "over_budget" || undefined;
    }, 60_000, "the owner's dear task to wait for the daily budget");

    const doc = await addTaskDocument(agent.reactor, agent.localDriveId, { spec: { title: "Later", taskType: "claude-code", params: { prompt: "hello", projectPath: project } }, requestRun: true });
    const told = await waitFor(async () => {
      const state = await getTaskDocumentState(agent.reactor, doc);
      return state.notices.find((n) => n.message.startsWith("waits: the daily budget is spent")) ? state : undefined;
    }, 30_000, "the document to say it waits for the daily budget");
    expect(told.status).toBe("queued");
    const notice = told.notices.find((n) => n.message.startsWith("waits:"));
    expect(notice).toMatchObject({ level: "warning" });
    expect(notice?.message).toMatch(/^waits: the daily budget is spent \(\$6\.00 of \$3\.50 in the last 24 hours; TASK_BUDGET_USD_PER_DAY\); runs that cost money start again at 20\d\d-/);
    expect(standIn.requests.length - before).toBe(1); // the owner's one call; nothing ran since
  }, 120_000);
});
