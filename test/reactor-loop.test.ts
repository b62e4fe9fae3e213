/**
 * The reactor loop end to end: a real document-drive reactor on FilesystemStorage in a temp dir,
 * the real task manager on PGlite, real processes. Documents ask for work; results come back as
 * operations.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addFile, addFolder, deleteNode } from "document-drive";
import type { PHDocument, Operation } from "document-model";
import { createAction } from "document-model/core";
import { startAgent, type Agent } from "../src/agent.js";
import { loadConfig } from "../src/config.js";
import { silentLogger } from "../src/logger.js";
import { addTaskDocument, dispatch, getTaskDocumentState, removeDocument } from "../src/reactor/documents.js";
import { actions } from "../src/reactor/task-document/actions.js";
import type { TaskDocumentState } from "../src/reactor/task-document/state.js";
import { RulesFileSchema } from "../src/rules/rules-schema.js";
import { cliRegistry, testManager } from "./support/manager.js";
import { processAlive, readPid, waitFor } from "./support/process.js";
import { documentReaches as reachesIn } from "./support/task-documents.js";

const rules = RulesFileSchema.parse({
  rules: [
    {
      name: "describe-on-rename",
      on: { documentType: "powerhouse/document-model", operationType: "SET_MODEL_NAME", where: { "input.name": { matches: "^release-" } } },
      task: { type: "cli", title: "Describe {{input.name}}", command: "echo", args: ["-n", "built {{input.name}}"] },
      onResult: { operation: "SET_MODEL_DESCRIPTION", input: { description: "{{result.stdout}}" } },
    },
    {
      name: "rename-loop",
      on: { documentType: "powerhouse/document-model", operationType: "SET_MODEL_NAME", where: { "input.name": { matches: "^loop" } } },
      task: { type: "cli", title: "Loop {{input.name}}", command: "echo", args: ["-n", "{{input.name}}x"] },
      onResult: { operation: "SET_MODEL_NAME", input: { name: "{{result.stdout}}" } },
    },
    {
      name: "outside-the-roots",
      on: { documentType: "powerhouse/document-model", operationType: "SET_MODEL_NAME", where: { "input.name": { matches: "^escape" } } },
      task: { type: "cli", title: "Read {{input.name}}", command: "cat", args: ["passwd"], workingDirectory: "/etc" },
    },
    {
      name: "never-on-agent-writes",
      on: { documentType: "powerhouse/task", operationType: "MARK_COMPLETED" },
      task: { type: "cli", title: "must not run", command: "true" },
    },
  ],
}).rules;

const dataDir = mkdtempSync(path.join(tmpdir(), "ph-loop-"));
const env = { TASK_DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "silent", TASK_SHUTDOWN_GRACE_MS: "100", TASK_KILL_GRACE_MS: "300", TASK_MAX_CHAIN_DEPTH: "2", TASK_MAX_TASKS_PER_DOCUMENT_PER_MINUTE: "5", TASK_RETRY_BASE_MS: "100" };
const start = () => startAgent(loadConfig(env, dataDir), { logger: silentLogger(), rules });

const documentReaches = (agent: Agent, id: string, statuses: string[], timeoutMs?: number): Promise<TaskDocumentState> => reachesIn(agent.reactor, id, statuses, timeoutMs);

async function operationsOf(agent: Agent, id: string): Promise<Operation[]> {
  const document = await agent.reactor.getDocument<PHDocument>(id);
  return document.operations.global ?? [];
}

describe("the reactor loop", () => {
  let agent: Agent;
  beforeAll(async () => {
    agent = await start();
  });
  afterAll(async () => {
    await agent.stop();
  });

  it("runs a task document's request and writes back output, exit code and completed", async () => {
    const id = await addTaskDocument(agent.reactor, agent.localDriveId, { spec: { title: "Greet", taskType: "cli", params: { command: "sh", args: ["-c", "echo hello from the drive"] } }, requestRun: true });
    const state = await documentReaches(agent, id, ["completed", "failed"]);
    expect(state.status).toBe("completed");
    expect(state.outputTail).toBe("hello from the drive\n");
    expect(state.runs).toHaveLength(1);
    expect(state.runs[0]).toMatchObject({ status: "completed", exitCode: 0, attempt: 1 });
    expect(state.result).toMatchObject({ exitCode: 0, stdout: "hello from the drive\n" });
    const types = (await operationsOf(agent, id)).map((op) => op.action.type);
    expect(types).toEqual(["SET_SPEC", "REQUEST_RUN", "MARK_QUEUED", "MARK_RUNNING", "APPEND_OUTPUT", "MARK_COMPLETED"]);
  });

  it("a failing command ends the document as failed with the error", async () => {
    const id = await addTaskDocument(agent.reactor, agent.localDriveId, { spec: { title: "Fail", taskType: "cli", params: { command: "sh", args: ["-c", "echo nope >&2; exit 4"] } }, requestRun: true });
    const state = await documentReaches(agent, id, ["completed", "failed"]);
    expect(state.status).toBe("failed");
    expect(state.error).toMatchObject({ code: "exit_code" });
    expect(state.error?.message).toContain("exited with code 4");
    expect(state.runs[0]?.exitCode).toBe(4);
    expect(state.outputTail).toContain("nope");
  });

  it("an invalid spec is refused on the document with the field that is wrong", async () => {
    const id = await addTaskDocument(agent.reactor, agent.localDriveId, { spec: { title: "Broken", taskType: "cli", params: { args: ["x"] } }, requestRun: true });
    const state = await documentReaches(agent, id, ["failed"]);
    expect(state.error?.code).toBe("invalid_task");
    expect(state.error?.message).toContain("command");
    expect(state.notices.at(-1)?.message).toContain("command");
  });

  it("cancel from the document stops the process and ends it cancelled", async () => {
    const pidFile = path.join(dataDir, "cancel.pid");
    const id = await addTaskDocument(agent.reactor, agent.localDriveId, { spec: { title: "Long", taskType: "cli", params: { command: "sh", args: ["-c", `echo $$ > ${pidFile}; exec sleep 60`], workingDirectory: dataDir } }, requestRun: true });
    await documentReaches(agent, id, ["running"]);
    const pid = await waitFor(() => readPid(pidFile));
    await dispatch(agent.reactor, id, actions.cancel({ reason: "changed my mind" }));
    const state = await documentReaches(agent, id, ["cancelled"]);
    expect(state.error?.code).toBe("cancelled");
    expect(processAlive(pid)).toBe(false);
  });

  it("removing a task document from its drive cancels its running task and kills the process", async () => {
    const pidFile = path.join(dataDir, "deleted.pid");
    const id = await addTaskDocument(agent.reactor, agent.localDriveId, { spec: { title: "Orphaned", taskType: "cli", params: { command: "sh", args: ["-c", `echo $$ > ${pidFile}; exec sleep 60`], workingDirectory: dataDir } }, requestRun: true });
    await documentReaches(agent, id, ["running"]);
    const pid = await waitFor(() => readPid(pidFile));
    const taskId = (await getTaskDocumentState(agent.reactor, id)).currentTaskId!;
    await removeDocument(agent.reactor, agent.localDriveId, id);
    const task = await waitFor(async () => { const t = await agent.manager.getTask(taskId); return t?.status === "cancelled" ? t : undefined; }, 15_000, "the task cancelled");
    expect(task.error?.message).toContain("its document was deleted");
    expect(processAlive(pid)).toBe(false);
  });

  it("removing a folder cancels the running tasks of the documents in it", async () => {
    const pidFile = path.join(dataDir, "in-folder.pid");
    const folder = `folder-${Date.now()}`;
    await dispatch(agent.reactor, agent.localDriveId, addFolder({ id: folder, name: "batch", parentFolder: null }));
    const id = await addTaskDocument(agent.reactor, agent.localDriveId, { parentFolder: folder, spec: { title: "In a folder", taskType: "cli", params: { command: "sh", args: ["-c", `echo $$ > ${pidFile}; exec sleep 60`], workingDirectory: dataDir } }, requestRun: true });
    await documentReaches(agent, id, ["running"]);
    const pid = await waitFor(() => readPid(pidFile));
    const taskId = (await getTaskDocumentState(agent.reactor, id)).currentTaskId!;
    await dispatch(agent.reactor, agent.localDriveId, deleteNode({ id: folder }));
    const task = await waitFor(async () => { const t = await agent.manager.getTask(taskId); return t?.status === "cancelled" ? t : undefined; }, 15_000, "the task cancelled");
    expect(task.error?.message).toContain("its document was deleted");
    expect(processAlive(pid)).toBe(false);
  });

  it("a repeated run request event does not run the task twice", async () => {
    const id = await addTaskDocument(agent.reactor, agent.localDriveId, { spec: { title: "Once", taskType: "cli", params: { command: "true" } }, requestRun: { requestId: "req-once" } });
    await documentReaches(agent, id, ["completed"]);
    const document = await agent.reactor.getDocument<PHDocument>(id);
    // The same event delivered again (a sync replay): nothing new happens.
    await agent.handler.processDocument(document);
    const request = (await operationsOf(agent, id)).filter((op) => op.action.type === "REQUEST_RUN");
    await agent.handler.processOperations(id, request);
    await agent.handler.idle();
    const { tasks } = await agent.manager.listTasks({ documentId: id, limit: 10, offset: 0 });
    expect(tasks).toHaveLength(1);
  });

  it("a rule on a foreign document type fires and writes its mapped result back", async () => {
    const document = await agent.reactor.addDocument("powerhouse/document-model");
    const id = document.header.id;
    await dispatch(agent.reactor, agent.localDriveId, addFile({ id, name: "Model", documentType: "powerhouse/document-model", parentFolder: null }));
    await dispatch(agent.reactor, id, createAction("SET_MODEL_NAME", { name: "draft" }, undefined, undefined, "global"));
    await dispatch(agent.reactor, id, createAction("SET_MODEL_NAME", { name: "release-7" }, undefined, undefined, "global"));
    const described = await waitFor(async () => {
      const doc = await agent.reactor.getDocument<PHDocument>(id);
      const global = (doc.state as unknown as { global: { description: string } }).global;
      return global.description ? global.description : undefined;
    }, 20_000, "the mapped description");
    expect(described).toBe("built release-7");
    const { tasks } = await agent.manager.listTasks({ documentId: id, limit: 10, offset: 0 });
    expect(tasks).toHaveLength(1); // "draft" did not match the filter
    expect(tasks[0]?.source).toMatchObject({ origin: "rule:describe-on-rename", documentType: "powerhouse/document-model", driveId: agent.localDriveId });
  });

  it("a rule whose result retriggers itself stops at TASK_MAX_CHAIN_DEPTH with a visible reason", async () => {
    const document = await agent.reactor.addDocument("powerhouse/document-model");
    const id = document.header.id;
    await dispatch(agent.reactor, id, createAction("SET_MODEL_NAME", { name: "loop" }, undefined, undefined, "global"));
    const refused = await waitFor(async () => {
      const { tasks } = await agent.manager.listTasks({ documentId: id, limit: 20, offset: 0 });
      return tasks.find((t) => t.error?.code === "chain_depth_exceeded");
    }, 30_000, "the chain to be cut");
    await agent.handler.idle();
    const { tasks } = await agent.manager.listTasks({ documentId: id, limit: 20, offset: 0 });
    // depth 0, 1, 2 ran; depth 3 was refused and recorded as cancelled with the reason.
    expect(tasks.filter((t) => t.status === "completed")).toHaveLength(3);
    expect(refused.status).toBe("cancelled");
    expect(refused.error?.message).toContain("TASK_MAX_CHAIN_DEPTH=2");
    const doc = await agent.reactor.getDocument<PHDocument>(id);
    expect((doc.state as unknown as { global: { name: string } }).global.name).toBe("loopxxx");
  });

  it("a rule's task the policy refuses (a directory outside the roots) is recorded as refused, with the field, not run", async () => {
    const document = await agent.reactor.addDocument("powerhouse/document-model");
    const id = document.header.id;
    await dispatch(agent.reactor, id, createAction("SET_MODEL_NAME", { name: "escape-1" }, undefined, undefined, "global"));
    const refused = await waitFor(async () => (await agent.manager.listTasks({ documentId: id, limit: 10, offset: 0 })).tasks[0], 20_000, "the refused task");
    expect(refused).toMatchObject({ status: "cancelled", attempts: 0, error: { code: "invalid_task" }, source: { origin: "rule:outside-the-roots" } });
    expect(refused.error?.message).toBe(`refused: workingDirectory: is outside the allowed roots (${dataDir}) (got "/etc")`);
  });

  it("operations the agent writes never trigger tasks", async () => {
    const { tasks } = await agent.manager.listTasks({ limit: 500, offset: 0 });
    expect(tasks.filter((t) => t.source?.origin === "rule:never-on-agent-writes")).toEqual([]);
  });

  it("more run requests per minute than allowed are dropped with a reason on the document", async () => {
    const id = await addTaskDocument(agent.reactor, agent.localDriveId, { spec: { title: "Busy", taskType: "cli", params: { command: "true" } } });
    for (let i = 0; i < 5; i++) {
      await dispatch(agent.reactor, id, i === 0 ? actions.requestRun({}) : actions.retry({}));
      await documentReaches(agent, id, ["completed"]);
    }
    await dispatch(agent.reactor, id, actions.retry({}));
    const state = await documentReaches(agent, id, ["failed"]);
    expect(state.error?.code).toBe("rate_capped");
    expect(state.notices.at(-1)?.message).toContain("TASK_MAX_TASKS_PER_DOCUMENT_PER_MINUTE=5");
  });

  it("a task created through the API gets its own document in the drive", async () => {
    const res = await fetch(`${agent.url}/api/tasks`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ type: "cli", title: "From the API: ok?", command: "echo", args: ["api"] }) });
    expect(res.status).toBe(201);
    const { task } = (await res.json()) as { task: { id: string; source: { documentId: string; driveId: string } } };
    expect(task.source.driveId).toBe(agent.localDriveId);
    const state = await documentReaches(agent, task.source.documentId, ["completed"]);
    expect(state.currentTaskId).toBe(task.id);
    expect(state.outputTail).toBe("api\n");
    const drive = await agent.reactor.getDrive(agent.localDriveId);
    expect(drive.state.global.nodes.some((n) => n.id === task.source.documentId)).toBe(true);
  });

  it("a task run by another worker sharing the store still reaches its document", async () => {
    // This agent's manager claims nothing now; a second worker on the same store runs the task.
    await agent.manager.stop();
    const other = testManager(agent.store, { workerId: "other-worker" }, cliRegistry(dataDir));
    await other.start();
    try {
      const id = await addTaskDocument(agent.reactor, agent.localDriveId, { spec: { title: "Elsewhere", taskType: "cli", params: { command: "echo", args: ["ran elsewhere"] } }, requestRun: true });
      const state = await documentReaches(agent, id, ["completed", "failed"]);
      expect(state.status).toBe("completed");
      expect(state.runs[0]?.workerId).toBe("other-worker");
      expect(state.outputTail).toBe("ran elsewhere\n");
    } finally {
      await other.stop();
      await agent.manager.start();
    }
  });

  it("stopped mid-task and started again, the task completes exactly once", async () => {
    const id = await addTaskDocument(agent.reactor, agent.localDriveId, { spec: { title: "Survivor", taskType: "cli", params: { command: "sh", args: ["-c", "sleep 2; echo done"] } }, requestRun: true });
    await documentReaches(agent, id, ["running"]);
    await agent.stop();
    agent = await start();
    const state = await documentReaches(agent, id, ["completed", "failed"]);
    expect(state.status).toBe("completed");
    expect(state.outputTail).toContain("done");
    const completions = (await operationsOf(agent, id)).filter((op) => op.action.type === "MARK_COMPLETED");
    expect(completions).toHaveLength(1);
    const { tasks } = await agent.manager.listTasks({ documentId: id, limit: 10, offset: 0 });
    expect(tasks).toHaveLength(1);
    expect(tasks[0]?.attempts).toBe(1);
  });

  it("at start-up, a document that asked for a run while the agent was down is run", async () => {
    await agent.stop();
    // Another writer (here: a second reactor on the same drive files) adds a request while no agent runs.
    const { createReactor } = await import("../src/reactor/reactor-setup.js");
    const offline = await createReactor({ storage: { kind: "filesystem", dir: path.join(dataDir, "documents") }, logger: silentLogger() });
    const id = await addTaskDocument(offline.reactor, offline.localDriveId, { spec: { title: "While away", taskType: "cli", params: { command: "echo", args: ["caught up"] } }, requestRun: true });
    agent = await start();
    const state = await documentReaches(agent, id, ["completed"]);
    expect(state.outputTail).toBe("caught up\n");
  });
});
