/**
 * Follow-ups from the outside, on a real agent (startAgent) with the real claude binary against the
 * Messages-API stand-in: POST /api/tasks/:id/follow-up and `ph-tasks follow-up` make a task of the
 * same type that carries the earlier task's project, model, limits and tags, with the new prompt
 * as the next turn of its conversation; a task document continues its own last conversation
 * (continueFrom: "previous"); bad requests are refused saying what is wrong, and the read-only
 * token cannot make one.
 */
import { mkdirSync, mkdtempSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAgent, type Agent } from "../src/agent.js";
import { loadConfig } from "../src/config.js";
import { silentLogger } from "../src/logger.js";
import { addTaskDocument, dispatch, getTaskDocumentState } from "../src/reactor/documents.js";
import { actions } from "../src/reactor/task-document/actions.js";
import { documentReaches } from "./support/task-documents.js";
import { startStandIn, type StandIn } from "./support/anthropic-stand-in.js";
import { phTasks } from "./support/ph-tasks-cli.js";
import { waitFor } from "./support/process.js";

const API_TOKEN = "follow-up-admin-token-0123456789";
const READ_TOKEN = "follow-up-reader-token-0123456789";
const root = realpathSync(mkdtempSync(path.join(tmpdir(), "ph-follow-up-api-")));
const project = path.join(root, "project");
mkdirSync(project);

interface ApiTask {
  id: string;
  type: string;
  title: string;
  status: string;
  result?: Record<string, unknown>;
  [field: string]: unknown;
}

describe("follow-ups through the API and the CLI", () => {
  let standIn: StandIn;
  let agent: Agent;
  const call = async (method: string, url: string, body?: unknown, token = API_TOKEN) => {
    const response = await fetch(`${agent.url}${url}`, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };
  const ended = (id: string) =>
    waitFor(async () => {
      const { json } = await call("GET", `/api/tasks/${id}`);
      const task = json.task as ApiTask;
      return ["completed", "failed", "cancelled"].includes(task.status) ? task : undefined;
    }, 60_000, `task ${id} to end`);

  beforeAll(async () => {
    standIn = await startStandIn();
    const dataDir = mkdtempSync(path.join(root, "agent-"));
    const env = { TASK_DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "silent", API_TOKEN, API_READ_TOKEN: READ_TOKEN, TASK_ALLOWED_ROOTS: root, ANTHROPIC_API_KEY: "sk-ant-test-key", ANTHROPIC_BASE_URL: standIn.url, TASK_SHUTDOWN_GRACE_MS: "100", TASK_KILL_GRACE_MS: "500" };
    agent = await startAgent(loadConfig(env, dataDir), { logger: silentLogger(), reactorStorage: { kind: "memory" }, rules: [] });
  });
  afterAll(async () => {
    await agent.stop();
    await standIn.close();
  });

  it("the API and ph-tasks follow-up continue the conversation with the earlier task's settings", async () => {
    standIn.enqueue({ kind: "text", text: "Noted: MANGO-9." });
    const first = await call("POST", "/api/tasks", { type: "claude-code", title: "Codeword", prompt: "Remember the codeword MANGO-9.", projectPath: project, maxTurns: 7, model: "claude-sonnet-4-5", tags: ["codewords"], timeoutMs: 90_000 });
    expect(first.status).toBe(201);
    const firstId = (first.json.task as ApiTask).id;
    expect((await ended(firstId)).result).toMatchObject({ conversationKept: true });

    // The API: the new prompt, everything else carried.
    standIn.enqueue({ kind: "text", text: "MANGO-9." });
    let before = standIn.requests.length;
    const follow = await call("POST", `/api/tasks/${firstId}/follow-up`, { prompt: "Which codeword?" });
    expect(follow.status).toBe(201);
    const followTask = follow.json.task as ApiTask;
    expect(followTask).toMatchObject({ type: "claude-code", title: "Follow-up: Codeword", prompt: "Which codeword?", continueFrom: firstId, projectPath: project, maxTurns: 7, model: "claude-sonnet-4-5", tags: ["codewords"], timeoutMs: 90_000 });
    expect(await ended(followTask.id)).toMatchObject({ status: "completed", result: { text: "MANGO-9.", conversationKept: true } });
    expect(standIn.userText(standIn.requests[before]!)).toContain("Remember the codeword MANGO-9.");

    // `ph-tasks show` says what it continues, what it cost, and how to follow it up.
    const shown = await phTasks(["show", followTask.id], { PH_TASKS_URL: agent.url, API_TOKEN });
    expect(shown.stdout).toContain(`continues: ${firstId}`);
    expect(shown.stdout).toMatch(/^cost: {6}\$0\.\d{4} \(the whole conversation: \$0\.\d{4}\)$/m);
    expect(shown.stdout).toContain(`follow up: ph-tasks follow-up ${followTask.id}`);

    // The CLI: a follow-up of the follow-up, the prompt on stdin, the turn limit lowered.
    standIn.enqueue({ kind: "text", text: "Still MANGO-9." });
    before = standIn.requests.length;
    const client = { PH_TASKS_URL: agent.url, API_TOKEN };
    const cli = await phTasks(["follow-up", followTask.id, "--max-turns", "3", "--json"], client, "And now?\n");
    expect(cli.stderr).toContain(`follow-up `);
    expect(cli.status).toBe(0);
    const cliTask = JSON.parse(cli.stdout) as ApiTask;
    expect(cliTask).toMatchObject({ type: "claude-code", title: "Follow-up: Follow-up: Codeword", continueFrom: followTask.id, maxTurns: 3, projectPath: project });
    expect(await ended(cliTask.id)).toMatchObject({ status: "completed", result: { text: "Still MANGO-9." } });
    const chain = JSON.stringify(standIn.requests[before]?.body.messages);
    for (const part of ["Remember the codeword MANGO-9.", "Which codeword?", "And now?"]) expect(chain).toContain(part);

    // The conversation, turn by turn: through the API, and as `ph-tasks conversation` prints it.
    const talk = await call("GET", `/api/tasks/${cliTask.id}/conversation`);
    expect(talk.status).toBe(200);
    const turns = talk.json.turns as { role: string; blocks: { kind: string; text?: string }[] }[];
    expect(turns.map((t) => t.role)).toEqual(["user", "assistant", "user", "assistant", "user", "assistant"]);
    expect(turns[0]?.blocks[0]?.text).toContain("Remember the codeword MANGO-9.");
    expect(turns.slice(1).map((t) => t.blocks[0]?.text)).toEqual([
      "Noted: MANGO-9.", expect.stringContaining("Which codeword?"), "MANGO-9.", expect.stringContaining("And now?"), "Still MANGO-9.",
    ]);
    const printed = await phTasks(["conversation", cliTask.id], client);
    expect(printed.status).toBe(0);
    expect(printed.stdout).toMatch(/^claude \d\d:\d\d:\d\d {2}Still MANGO-9\.$/m);
    expect(printed.stdout).toMatch(/^asked {2}\d\d:\d\d:\d\d {2}/m);
    expect((await call("GET", `/api/tasks/${firstId}/conversation`, undefined, READ_TOKEN)).status).toBe(200); // reading, as the task's output

    // submit claude-code --continue-from does the same with every field given.
    standIn.enqueue({ kind: "text", text: "From submit." });
    const submitted = await phTasks(["submit", "claude-code", "--prompt", "Once more?", "--continue-from", firstId, "--json"], client);
    expect(submitted.status).toBe(0);
    const submittedTask = JSON.parse(submitted.stdout) as ApiTask;
    expect(submittedTask).toMatchObject({ continueFrom: firstId, projectPath: project });
    expect(await ended(submittedTask.id)).toMatchObject({ status: "completed" });
  }, 120_000);

  it("a task document continues its own last conversation with continueFrom: \"previous\"", async () => {
    standIn.enqueue({ kind: "text", text: "Noted: LIME-5." });
    const doc = await addTaskDocument(agent.reactor, agent.localDriveId, { spec: { title: "Chat", taskType: "claude-code", params: { prompt: "Remember the codeword LIME-5.", projectPath: project } }, requestRun: true });
    const first = await documentReaches(agent.reactor, doc, ["completed", "failed"], 60_000);
    expect(first.status).toBe("completed");
    const firstTask = first.runs.at(-1)?.taskId;

    standIn.enqueue({ kind: "text", text: "LIME-5, as you said." });
    const before = standIn.requests.length;
    await dispatch(agent.reactor, doc, actions.setSpec({ params: { prompt: "Which codeword?", projectPath: project, continueFrom: "previous" } }));
    await dispatch(agent.reactor, doc, actions.requestRun({ requestId: "second" }));
    const second = await waitFor(async () => {
      const state = await getTaskDocumentState(agent.reactor, doc);
      return state.lastRequestId === "second" && ["completed", "failed", "cancelled"].includes(state.status) ? state : undefined;
    }, 60_000, "the document's follow-up to end");
    expect(second.error).toBeNull();
    expect(second.status).toBe("completed");
    expect(second.result).toMatchObject({ text: "LIME-5, as you said.", conversationKept: true });
    const followId = second.runs.at(-1)?.taskId;
    expect(followId).not.toBe(firstTask);
    const { json } = await call("GET", `/api/tasks/${followId}`);
    expect(json.task).toMatchObject({ continueFrom: firstTask, projectPath: project });
    expect(standIn.userText(standIn.requests[before]!)).toContain("Remember the codeword LIME-5.");

    // "previous" in a document that has run nothing: refused in the document, naming it.
    const fresh = await addTaskDocument(agent.reactor, agent.localDriveId, { spec: { title: "Fresh", taskType: "claude-code", params: { prompt: "p", projectPath: project, continueFrom: "previous" } }, requestRun: true });
    const refused = await documentReaches(agent.reactor, fresh, ["failed", "cancelled", "idle"], 30_000);
    expect(refused.error?.message).toContain("continueFrom: 'previous' names the last task of the task document asking, and it has run none yet");
  }, 120_000);

  it("refuses what cannot be a follow-up, saying why; the read-only token cannot make one", async () => {
    const cliTask = await call("POST", "/api/tasks", { type: "cli", title: "echo", command: "echo", args: ["hi"], workingDirectory: project });
    const cliId = (cliTask.json.task as ApiTask).id;
    expect(await call("POST", `/api/tasks/${cliId}/follow-up`, { prompt: "more" })).toMatchObject({ status: 409, json: { error: "no_follow_ups", message: "a cli task has no conversation to continue: follow-ups are for Claude tasks (claude-code, claude-agent)" } });
    expect(await call("POST", "/api/tasks/no-such-task/follow-up", { prompt: "more" })).toMatchObject({ status: 404, json: { message: "no task with id 'no-such-task'" } });
    expect(await call("GET", `/api/tasks/${cliId}/conversation`)).toMatchObject({ status: 404, json: { error: "no_conversation" } });

    standIn.enqueue({ kind: "text", text: "ok" });
    const claude = await call("POST", "/api/tasks", { type: "claude-code", title: "c", prompt: "hello", projectPath: project });
    const claudeId = (claude.json.task as ApiTask).id;
    await ended(claudeId);
    const empty = await call("POST", `/api/tasks/${claudeId}/follow-up`, { prompt: "  " });
    expect(empty.status).toBe(400);
    expect(empty.json.errors).toEqual([expect.objectContaining({ field: "prompt", message: "must not be empty" })]);
    const unknown = await call("POST", `/api/tasks/${claudeId}/follow-up`, { prompt: "p", projectPath: "/etc" });
    expect(unknown.status).toBe(400);
    expect(unknown.json.errors).toEqual([expect.objectContaining({ message: 'has no field "projectPath": a follow-up takes prompt, title, instructions, model, maxTurns, maxBudgetUsd, priority and idempotencyKey; the rest comes from the task it continues' })]);
    const badTurns = await call("POST", `/api/tasks/${claudeId}/follow-up`, { prompt: "p", maxTurns: 0 });
    expect(badTurns.status).toBe(400);
    expect(badTurns.json.errors).toEqual([expect.objectContaining({ field: "maxTurns", value: "0" })]);
    expect((await call("POST", `/api/tasks/${claudeId}/follow-up`, { prompt: "p" }, READ_TOKEN)).status).toBe(403);

    // A secret in the conversation is taken out before it is kept: not in the store, not shown, not sent again by a follow-up.
    standIn.enqueue({ kind: "text", text: "I will not repeat it." });
    const leaky = await call("POST", `/api/tasks/${claudeId}/follow-up`, { prompt: `the token is ${API_TOKEN}` });
    const leakyId = (leaky.json.task as ApiTask).id;
    await ended(leakyId);
    const stored = (await agent.manager.conversations.load(leakyId))?.transcript.toString("utf8") ?? "";
    expect(stored).toContain("the token is [REDACTED]");
    expect(stored).not.toContain(API_TOKEN);
    for (const line of stored.trim().split("\n")) expect(() => JSON.parse(line) as unknown).not.toThrow(); // still claude's JSON lines
    const shown = JSON.stringify((await call("GET", `/api/tasks/${leakyId}/conversation`)).json);
    expect(shown).toContain("the token is [REDACTED]");
    expect(shown).not.toContain(API_TOKEN);
    standIn.enqueue({ kind: "text", text: "Still not." });
    const sentBefore = standIn.requests.length;
    const after = await call("POST", `/api/tasks/${leakyId}/follow-up`, { prompt: "and now?" });
    expect(await ended((after.json.task as ApiTask).id)).toMatchObject({ status: "completed" });
    const resent = standIn.userText(standIn.requests[sentBefore]!);
    expect(resent).toContain("the token is [REDACTED]");
    expect(resent).not.toContain(API_TOKEN);

    const noPrompt = await phTasks(["follow-up", claudeId], { PH_TASKS_URL: agent.url, API_TOKEN }, "");
    expect(noPrompt.status).toBe(2);
    expect(noPrompt.stderr).toContain("give the prompt as an argument or on stdin");
  }, 60_000);
});
