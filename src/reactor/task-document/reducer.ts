/**
 * The task document's reducer. Pure: it uses the action's own timestamp, never the clock, so a
 * replay gives the same state. It throws on an invalid input or a forbidden transition: the
 * reactor then stores the operation with its error and leaves the state unchanged.
 */
import { createReducer, isDocumentAction } from "document-model/core";
import type { Action, PHBaseState, Reducer, StateReducer } from "document-model";
import { parseOperationInput, TaskDocumentError, type TaskOperationType } from "./operations.js";
import { LIMITS, isActive, type Run, type TaskDocumentState } from "./state.js";

export type TaskDocumentPHState = PHBaseState & { global: TaskDocumentState; local: Record<string, never> };

function actionTime(action: Action): string {
  const ms = Number(action.timestampUtcMs);
  return new Date(Number.isFinite(ms) ? ms : Date.parse(String(action.timestampUtcMs))).toISOString();
}

/** Agent reports about a run the document is no longer waiting for are stale: refuse them. */
function requireCurrent(state: TaskDocumentState, type: string, taskId: string): void {
  if (state.currentTaskId !== taskId) throw new TaskDocumentError(`${type}: task ${taskId} is not the current run (${state.currentTaskId ?? "none"})`);
}

function upsertRun(state: TaskDocumentState, taskId: string, attempt: number, patch: Partial<Run>): void {
  let run = state.runs.find((r) => r.taskId === taskId && r.attempt === attempt);
  if (!run) {
    run = { taskId, attempt, status: "running", workerId: null, startedAt: null, finishedAt: null, exitCode: null, costUsd: null, durationMs: null, error: null };
    state.runs.push(run);
    if (state.runs.length > LIMITS.runs) state.runs.splice(0, state.runs.length - LIMITS.runs);
  }
  Object.assign(run, patch);
}

function requestRun(state: TaskDocumentState, action: Action, requestId: string | undefined, verb: string): void {
  if (isActive(state.status)) throw new TaskDocumentError(`${verb}: the task is already ${state.status}`);
  if (!state.title) throw new TaskDocumentError(`${verb}: set a title (SET_SPEC) before asking for a run`);
  state.status = "requested";
  state.lastRequestId = requestId ?? action.id;
  state.requestedAt = actionTime(action);
  state.cancelRequested = false;
  state.currentTaskId = null;
  state.error = null;
}

/** A decision changes nothing here: the agent acts on it, and reports the approval's end as any task's. */
function requireWaitingApproval(state: TaskDocumentState, verb: string): void {
  if (state.taskType !== "approval") throw new TaskDocumentError(`${verb}: the task is a ${state.taskType} task, not an approval`);
  if (state.status !== "queued") throw new TaskDocumentError(`${verb}: only a queued approval waits for a decision; this one is ${state.status}`);
}

const truncateJson = (value: unknown): unknown => {
  const text = JSON.stringify(value ?? null);
  return text.length <= LIMITS.resultChars ? (value ?? null) : { truncated: true, preview: text.slice(0, LIMITS.resultChars) };
};

const apply: Record<TaskOperationType, (state: TaskDocumentState, action: Action) => void> = {
  SET_SPEC(state, action) {
    const input = parseOperationInput("SET_SPEC", action.input);
    if (isActive(state.status)) throw new TaskDocumentError(`SET_SPEC: cannot change the task while it is ${state.status}`);
    for (const [key, value] of Object.entries(input)) if (value !== undefined) (state as unknown as Record<string, unknown>)[key] = value;
  },
  REQUEST_RUN(state, action) {
    const input = parseOperationInput("REQUEST_RUN", action.input);
    requestRun(state, action, input.requestId, "REQUEST_RUN");
  },
  RETRY(state, action) {
    parseOperationInput("RETRY", action.input);
    if (state.status === "idle") throw new TaskDocumentError("RETRY: the task has not run yet; use REQUEST_RUN");
    requestRun(state, action, undefined, "RETRY");
  },
  CANCEL(state, action) {
    parseOperationInput("CANCEL", action.input);
    if (!isActive(state.status)) throw new TaskDocumentError(`CANCEL: nothing to cancel, the task is ${state.status}`);
    state.cancelRequested = true;
    // Not yet accepted by the agent: nothing runs, so it is cancelled now.
    if (state.status === "requested") state.status = "cancelled";
  },
  APPROVE(state, action) {
    parseOperationInput("APPROVE", action.input);
    requireWaitingApproval(state, "APPROVE");
  },
  REJECT(state, action) {
    parseOperationInput("REJECT", action.input);
    requireWaitingApproval(state, "REJECT");
  },
  MARK_QUEUED(state, action) {
    const input = parseOperationInput("MARK_QUEUED", action.input);
    if (state.status !== "requested" || state.lastRequestId !== input.requestId) throw new TaskDocumentError(`MARK_QUEUED: request ${input.requestId} is not the open request`);
    state.status = "queued";
    state.currentTaskId = input.taskId;
    state.outputTail = "";
    state.outputBytes = 0;
    state.result = null;
  },
  MARK_RUNNING(state, action) {
    const input = parseOperationInput("MARK_RUNNING", action.input);
    requireCurrent(state, "MARK_RUNNING", input.taskId);
    state.status = "running";
    state.attempts = input.attempt;
    upsertRun(state, input.taskId, input.attempt, { status: "running", workerId: input.workerId, startedAt: input.startedAt });
  },
  APPEND_OUTPUT(state, action) {
    const input = parseOperationInput("APPEND_OUTPUT", action.input);
    requireCurrent(state, "APPEND_OUTPUT", input.taskId);
    const tail = state.outputTail + input.text;
    state.outputTail = tail.length > LIMITS.outputTailChars ? tail.slice(tail.length - LIMITS.outputTailChars) : tail;
    state.outputBytes += input.bytes ?? input.text.length;
  },
  MARK_RETRYING(state, action) {
    const input = parseOperationInput("MARK_RETRYING", action.input);
    requireCurrent(state, "MARK_RETRYING", input.taskId);
    state.status = "queued";
    state.error = input.error;
    upsertRun(state, input.taskId, input.attempt, { status: "retrying", finishedAt: input.at, error: `${input.error.code}: ${input.error.message}` });
  },
  MARK_COMPLETED(state, action) {
    const input = parseOperationInput("MARK_COMPLETED", action.input);
    requireCurrent(state, "MARK_COMPLETED", input.taskId);
    state.status = "completed";
    state.result = truncateJson(input.result);
    state.error = null;
    upsertRun(state, input.taskId, Math.max(1, state.attempts), { status: "completed", finishedAt: input.finishedAt, exitCode: input.exitCode ?? null, costUsd: input.costUsd ?? null, durationMs: input.durationMs ?? null });
  },
  MARK_FAILED(state, action) {
    const input = parseOperationInput("MARK_FAILED", action.input);
    requireCurrent(state, "MARK_FAILED", input.taskId);
    state.status = "failed";
    state.error = input.error;
    state.result = truncateJson(input.result);
    upsertRun(state, input.taskId, Math.max(1, state.attempts), { status: "failed", finishedAt: input.finishedAt, exitCode: input.exitCode ?? null, durationMs: input.durationMs ?? null, error: `${input.error.code}: ${input.error.message}` });
  },
  MARK_CANCELLED(state, action) {
    const input = parseOperationInput("MARK_CANCELLED", action.input);
    requireCurrent(state, "MARK_CANCELLED", input.taskId);
    state.status = "cancelled";
    state.error = { code: "cancelled", message: input.reason };
    if (state.attempts > 0) upsertRun(state, input.taskId, state.attempts, { status: "cancelled", finishedAt: input.finishedAt });
  },
  REJECT_REQUEST(state, action) {
    const input = parseOperationInput("REJECT_REQUEST", action.input);
    if (state.status !== "requested" || state.lastRequestId !== input.requestId) throw new TaskDocumentError(`REJECT_REQUEST: request ${input.requestId} is not the open request`);
    state.status = "failed";
    state.error = input.error;
    state.notices.push({ at: input.at, level: "error", message: `run request refused: ${input.error.message}` });
    if (state.notices.length > LIMITS.notices) state.notices.splice(0, state.notices.length - LIMITS.notices);
  },
  ADD_NOTICE(state, action) {
    const input = parseOperationInput("ADD_NOTICE", action.input);
    state.notices.push(input);
    if (state.notices.length > LIMITS.notices) state.notices.splice(0, state.notices.length - LIMITS.notices);
  },
};

export const taskDocumentStateReducer: StateReducer<TaskDocumentPHState> = (state, action) => {
  if (isDocumentAction(action)) return state;
  const handler = apply[action.type as TaskOperationType] as ((s: TaskDocumentState, a: Action) => void) | undefined;
  if (!handler) throw new TaskDocumentError(`unknown operation ${action.type} for powerhouse/task`);
  handler(state.global, action);
  return undefined;
};

export const taskDocumentReducer: Reducer<TaskDocumentPHState> = createReducer(taskDocumentStateReducer);
