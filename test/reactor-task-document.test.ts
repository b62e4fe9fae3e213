/**
 * The `powerhouse/task` document model on a real document-drive reactor (memory storage): a
 * task document in a drive, a whole lifecycle of person and agent operations, the bounds, and the
 * refusals (invalid input, spec change while running, stale agent writes) that the reactor records
 * with an error while the state stays as it was.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { IDocumentDriveServer } from "document-drive";
import type { Action, Operation, PHDocument } from "document-model";
import { createAction } from "document-model/core";
import { silentLogger } from "../src/logger.js";
import { addTaskDocument, dispatch, DocumentActionError, getTaskDocumentState, listTaskDocuments } from "../src/reactor/documents.js";
import { createReactor, LOCAL_DRIVE_SLUG } from "../src/reactor/reactor-setup.js";
import { actions } from "../src/reactor/task-document/actions.js";
import { AGENT_OPERATION_TYPES, OPERATION_INPUTS, PERSON_OPERATION_TYPES } from "../src/reactor/task-document/operations.js";
import { LIMITS, TASK_DOCUMENT_TYPE, TaskDocumentStateSchema } from "../src/reactor/task-document/state.js";

let reactor: IDocumentDriveServer;
let driveId: string;

const at = (iso: string) => new Date(iso).toISOString();

async function operationsOf(id: string): Promise<Operation[]> {
  const document = await reactor.getDocument<PHDocument>(id);
  return document.operations.global ?? [];
}

/** Applies an action the reducer must refuse; returns the stored operation's error. */
async function refused(id: string, action: Action): Promise<string> {
  const before = await getTaskDocumentState(reactor, id);
  const countBefore = (await operationsOf(id)).length;
  const result = await reactor.addAction(id, action);
  const stored = result.operations.find((op) => op.action.id === action.id);
  // Recorded in the history, with the reason, and nothing changed.
  expect(stored?.error).toBeTruthy();
  expect((await operationsOf(id)).length).toBe(countBefore + 1);
  expect(await getTaskDocumentState(reactor, id)).toEqual(before);
  return String(stored?.error);
}

async function newTask(title = "Build the site"): Promise<string> {
  return addTaskDocument(reactor, driveId, { spec: { title, instructions: "npm run build", taskType: "cli", params: { command: "npm", args: ["run", "build"], workingDirectory: "/srv/site" } } });
}

/** A document taken through REQUEST_RUN, MARK_QUEUED and MARK_RUNNING with the given task id. */
async function runningTask(taskId: string): Promise<string> {
  const id = await newTask();
  await dispatch(reactor, id, actions.requestRun({ requestId: `req-${taskId}` }));
  await dispatch(reactor, id, actions.markQueued({ taskId, requestId: `req-${taskId}` }));
  await dispatch(reactor, id, actions.markRunning({ taskId, attempt: 1, workerId: "w1", startedAt: at("2026-01-01T10:00:00Z") }));
  return id;
}

beforeAll(async () => {
  ({ reactor, localDriveId: driveId } = await createReactor({ storage: { kind: "memory" }, logger: silentLogger(), logLevel: "silent" }));
});

describe("the powerhouse/task document model on a real reactor", () => {
  it("builds the reactor with the drive, document-model and task models and a local drive", async () => {
    const types = reactor.getDocumentModelModules().map((m) => m.documentModel.global.id);
    expect(types).toEqual(expect.arrayContaining(["powerhouse/document-drive", "powerhouse/document-model", TASK_DOCUMENT_TYPE]));
    const drive = await reactor.getDrive(driveId);
    expect(drive.header.slug).toBe(LOCAL_DRIVE_SLUG);
    expect(drive.state.global.name).toBe("Tasks");
  });

  it("creates a task document in the drive with its spec and finds it again", async () => {
    const id = await newTask("Nightly: build (site) #1");
    const listed = await listTaskDocuments(reactor);
    expect(listed).toContainEqual({ documentId: id, driveId, documentType: TASK_DOCUMENT_TYPE, name: "Nightly build (site) 1" });
    const state = await getTaskDocumentState(reactor, id);
    // The state is what the schema says, with the spec applied and nothing run yet.
    expect(TaskDocumentStateSchema.parse(state)).toEqual(state);
    expect(state).toMatchObject({ title: "Nightly: build (site) #1", taskType: "cli", params: { command: "npm", args: ["run", "build"], workingDirectory: "/srv/site" }, status: "idle", attempts: 0, currentTaskId: null, runs: [], outputTail: "", result: null, error: null });
  });

  it("goes through a whole lifecycle: request, queued, running, output, retry, completed, run again, failed", async () => {
    const id = await newTask();
    await dispatch(reactor, id, actions.setSpec({ priority: 7, maxAttempts: 3, timeoutMs: 60_000 }));
    const request = actions.requestRun({ reason: "nightly" });
    await dispatch(reactor, id, request);
    let state = await getTaskDocumentState(reactor, id);
    // Without a requestId, the request is known by its action id.
    expect(state).toMatchObject({ status: "requested", lastRequestId: request.id, priority: 7, maxAttempts: 3, timeoutMs: 60_000 });
    expect(Date.parse(state.requestedAt ?? "")).toBe(Date.parse(String(request.timestampUtcMs)));

    await dispatch(reactor, id, actions.markQueued({ taskId: "t1", requestId: request.id }));
    await dispatch(reactor, id, actions.markRunning({ taskId: "t1", attempt: 1, workerId: "w1", startedAt: at("2026-01-01T10:00:00Z") }));
    await dispatch(reactor, id, actions.appendOutput({ taskId: "t1", text: "compiling\n" }));
    await dispatch(reactor, id, actions.markRetrying({ taskId: "t1", attempt: 1, error: { code: "exit_code", message: "exit 1" }, retryInMs: 500, at: at("2026-01-01T10:00:05Z") }));
    state = await getTaskDocumentState(reactor, id);
    expect(state).toMatchObject({ status: "queued", attempts: 1, error: { code: "exit_code" } });
    await dispatch(reactor, id, actions.markRunning({ taskId: "t1", attempt: 2, workerId: "w2", startedAt: at("2026-01-01T10:00:06Z") }));
    await dispatch(reactor, id, actions.appendOutput({ taskId: "t1", text: "done\n" }));
    await dispatch(reactor, id, actions.markCompleted({ taskId: "t1", result: { exitCode: 0, artifacts: ["dist/index.html"] }, exitCode: 0, costUsd: 0.01, durationMs: 1500, finishedAt: at("2026-01-01T10:00:08Z") }));
    state = await getTaskDocumentState(reactor, id);
    expect(state).toMatchObject({ status: "completed", attempts: 2, currentTaskId: "t1", outputTail: "compiling\ndone\n", outputBytes: 15, result: { exitCode: 0, artifacts: ["dist/index.html"] }, error: null });
    expect(state.runs).toEqual([
      { taskId: "t1", attempt: 1, status: "retrying", workerId: "w1", startedAt: at("2026-01-01T10:00:00Z"), finishedAt: at("2026-01-01T10:00:05Z"), exitCode: null, costUsd: null, durationMs: null, error: "exit_code: exit 1" },
      { taskId: "t1", attempt: 2, status: "completed", workerId: "w2", startedAt: at("2026-01-01T10:00:06Z"), finishedAt: at("2026-01-01T10:00:08Z"), exitCode: 0, costUsd: 0.01, durationMs: 1500, error: null },
    ]);

    // Finished: the spec can change again, and RETRY asks for a new run.
    await dispatch(reactor, id, actions.setSpec({ params: { command: "false" } }));
    const retry = actions.retry({});
    await dispatch(reactor, id, retry);
    state = await getTaskDocumentState(reactor, id);
    expect(state).toMatchObject({ status: "requested", lastRequestId: retry.id, currentTaskId: null, params: { command: "false" } });
    await dispatch(reactor, id, actions.markQueued({ taskId: "t2", requestId: retry.id }));
    state = await getTaskDocumentState(reactor, id);
    // A new run starts with a clean output tail and result.
    expect(state).toMatchObject({ status: "queued", currentTaskId: "t2", outputTail: "", outputBytes: 0, result: null });
    await dispatch(reactor, id, actions.markRunning({ taskId: "t2", attempt: 1, workerId: "w1", startedAt: at("2026-01-01T11:00:00Z") }));
    await dispatch(reactor, id, actions.markFailed({ taskId: "t2", error: { code: "exit_code", message: "exited with 1" }, exitCode: 1, finishedAt: at("2026-01-01T11:00:01Z") }));
    state = await getTaskDocumentState(reactor, id);
    expect(state).toMatchObject({ status: "failed", error: { code: "exit_code", message: "exited with 1" } });
    expect(state.runs.at(-1)).toMatchObject({ taskId: "t2", attempt: 1, status: "failed", exitCode: 1, error: "exit_code: exited with 1" });

    const types = (await operationsOf(id)).map((op) => op.action.type);
    expect(types).toEqual(["SET_SPEC", "SET_SPEC", "REQUEST_RUN", "MARK_QUEUED", "MARK_RUNNING", "APPEND_OUTPUT", "MARK_RETRYING", "MARK_RUNNING", "APPEND_OUTPUT", "MARK_COMPLETED", "SET_SPEC", "RETRY", "MARK_QUEUED", "MARK_RUNNING", "MARK_FAILED"]);
    expect((await operationsOf(id)).every((op) => !op.error)).toBe(true);
  });

  it("cancels: a request not yet accepted is cancelled at once; a running one waits for the agent", async () => {
    const waiting = await newTask();
    await dispatch(reactor, waiting, actions.requestRun({}));
    await dispatch(reactor, waiting, actions.cancel({ reason: "changed my mind" }));
    expect(await getTaskDocumentState(reactor, waiting)).toMatchObject({ status: "cancelled", cancelRequested: true });

    const id = await runningTask("c1");
    await dispatch(reactor, id, actions.cancel({}));
    expect(await getTaskDocumentState(reactor, id)).toMatchObject({ status: "running", cancelRequested: true });
    await dispatch(reactor, id, actions.markCancelled({ taskId: "c1", reason: "cancelled by a person", finishedAt: at("2026-01-01T10:00:03Z") }));
    const state = await getTaskDocumentState(reactor, id);
    expect(state).toMatchObject({ status: "cancelled", error: { code: "cancelled", message: "cancelled by a person" } });
    expect(state.runs).toEqual([expect.objectContaining({ taskId: "c1", status: "cancelled", finishedAt: at("2026-01-01T10:00:03Z") })]);
    // Nothing left to cancel.
    expect(await refused(id, actions.cancel({}))).toMatch(/nothing to cancel/);
  });

  it("keeps the output tail bounded: the front is trimmed, the byte count keeps growing", async () => {
    const id = await runningTask("o1");
    const chunk = (n: number) => `${String(n).padStart(4, "0")}:${"x".repeat(1018)}\n`; // 1 KiB each
    for (let n = 0; n < 40; n++) await dispatch(reactor, id, actions.appendOutput({ taskId: "o1", text: chunk(n) }));
    const state = await getTaskDocumentState(reactor, id);
    expect(state.outputTail.length).toBe(LIMITS.outputTailChars);
    expect(state.outputTail.endsWith(chunk(39))).toBe(true);
    expect(state.outputTail.startsWith(chunk(24))).toBe(true);
    expect(state.outputBytes).toBe(40 * 1024);
  });

  it("keeps the run history and the notices bounded", async () => {
    const id = await runningTask("r1");
    for (let attempt = 1; attempt <= LIMITS.runs + 5; attempt++) {
      await dispatch(reactor, id, actions.markRunning({ taskId: "r1", attempt, workerId: "w", startedAt: at("2026-01-01T10:00:00Z") }));
    }
    for (let n = 0; n < LIMITS.notices + 3; n++) await dispatch(reactor, id, actions.addNotice({ level: "warning", message: `notice ${n}`, at: at("2026-01-01T10:00:00Z") }));
    const state = await getTaskDocumentState(reactor, id);
    expect(state.runs).toHaveLength(LIMITS.runs);
    expect(state.runs[0]?.attempt).toBe(6);
    expect(state.runs.at(-1)?.attempt).toBe(LIMITS.runs + 5);
    expect(state.notices).toHaveLength(LIMITS.notices);
    expect(state.notices[0]?.message).toBe("notice 3");
  });

  it("records an invalid input with an error and changes nothing", async () => {
    const id = await newTask();
    // A person's typo from a tool that does not check types: priority must be an integer.
    expect(await refused(id, createAction<Action>("SET_SPEC", { priority: "high" }, undefined, undefined, "global"))).toMatch(/priority/);
    expect(await refused(id, createAction<Action>("SET_SPEC", { colour: "red" }, undefined, undefined, "global"))).toMatch(/colour|unrecognized/i);
    expect(await refused(id, createAction<Action>("MARK_RUNNING", { taskId: "x", attempt: 0, workerId: "w", startedAt: "yesterday" }, undefined, undefined, "global"))).toMatch(/attempt|startedAt/);
    // dispatch turns such a refusal into an error for callers in this code base.
    await expect(dispatch(reactor, id, createAction<Action>("REQUEST_RUN", { requestId: 42 }, undefined, undefined, "global"))).rejects.toBeInstanceOf(DocumentActionError);
    expect((await getTaskDocumentState(reactor, id)).status).toBe("idle");
  });

  it("checks inputs in the action creators too, so an invalid spec creates no document", async () => {
    // Typed callers cannot write this; JSON from a tool or an HTTP body can.
    const loose = actions as unknown as Record<string, (input: unknown) => Action>;
    expect(() => loose.setSpec?.({ priority: "high" })).toThrow(/SET_SPEC: invalid input: priority/);
    expect(() => loose.markRunning?.({ taskId: "t", attempt: 1 })).toThrow(/workerId/);
    const before = (await listTaskDocuments(reactor)).length;
    await expect(addTaskDocument(reactor, driveId, { spec: { title: "x".repeat(201) } })).rejects.toThrow(/title/);
    expect((await listTaskDocuments(reactor)).length).toBe(before);
  });

  it("refuses a spec change while the task is requested, queued or running, and a run without a title", async () => {
    const id = await runningTask("s1");
    expect(await refused(id, actions.setSpec({ params: { command: "rm" } }))).toMatch(/while it is running/);
    expect(await refused(id, actions.requestRun({}))).toMatch(/already running/);

    const untitled = await reactor.addDocument(TASK_DOCUMENT_TYPE);
    expect(await refused(untitled.header.id, actions.requestRun({}))).toMatch(/title/);
    expect(await refused(untitled.header.id, actions.retry({}))).toMatch(/has not run yet/);
  });

  it("refuses stale agent writes: a task id that is not the current run, a request that is not open", async () => {
    const id = await runningTask("current");
    expect(await refused(id, actions.appendOutput({ taskId: "old", text: "late output" }))).toMatch(/not the current run/);
    expect(await refused(id, actions.markCompleted({ taskId: "old", result: { exitCode: 0 }, finishedAt: at("2026-01-01T10:00:00Z") }))).toMatch(/not the current run/);
    expect(await refused(id, actions.markFailed({ taskId: "old", error: { code: "x", message: "y" }, finishedAt: at("2026-01-01T10:00:00Z") }))).toMatch(/not the current run/);
    expect(await refused(id, actions.markQueued({ taskId: "again", requestId: "req-current" }))).toMatch(/not the open request/);

    const requested = await newTask();
    await dispatch(reactor, requested, actions.requestRun({ requestId: "r-open" }));
    expect(await refused(requested, actions.markQueued({ taskId: "t", requestId: "r-other" }))).toMatch(/not the open request/);
    // The agent refusing the open request: failed, with a notice a person can read.
    await dispatch(reactor, requested, actions.rejectRequest({ requestId: "r-open", error: { code: "rate_limited", message: "rate cap reached" }, at: at("2026-01-01T10:00:00Z") }));
    expect(await getTaskDocumentState(reactor, requested)).toMatchObject({ status: "failed", error: { code: "rate_limited" }, notices: [{ level: "error", message: "run request refused: rate cap reached" }] });
  });

  it("splits the operations into person and agent sets that cover every operation", () => {
    const all = Object.keys(OPERATION_INPUTS).sort();
    expect([...PERSON_OPERATION_TYPES, ...AGENT_OPERATION_TYPES].sort()).toEqual(all);
    expect([...PERSON_OPERATION_TYPES].filter((t) => AGENT_OPERATION_TYPES.has(t))).toEqual([]);
  });
});
