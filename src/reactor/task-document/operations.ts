/**
 * The operations of a task document: their input schemas (zod, checked by the reducer) and their
 * GraphQL input types (in the spec, for reactor-mcp, Connect and other Powerhouse tools).
 */
import { z } from "zod";

const Json = z.json();
const JsonObject = z.record(z.string(), Json);
const Iso = z.iso.datetime({ offset: true });

export const OPERATION_INPUTS = {
  // For people.
  SET_SPEC: z.strictObject({
    title: z.string().min(1).max(200).optional(),
    instructions: z.string().max(100_000).optional(),
    taskType: z.string().regex(/^[a-z][a-z0-9-]{0,39}$/).optional(),
    params: JsonObject.optional(),
    priority: z.int().min(0).max(100).nullable().optional(),
    maxAttempts: z.int().min(1).max(100).nullable().optional(),
    timeoutMs: z.int().min(100).nullable().optional(),
  }),
  REQUEST_RUN: z.strictObject({ requestId: z.string().min(1).max(200).optional(), reason: z.string().max(500).optional() }),
  CANCEL: z.strictObject({ reason: z.string().max(500).optional() }),
  RETRY: z.strictObject({ reason: z.string().max(500).optional() }),
  // An approval task's decision (taskType "approval": the agent runs nothing until someone decides).
  APPROVE: z.strictObject({ note: z.string().max(2000).optional() }),
  REJECT: z.strictObject({ note: z.string().max(2000).optional() }),
  // For the agent.
  MARK_QUEUED: z.strictObject({ taskId: z.string().min(1), requestId: z.string().min(1) }),
  MARK_RUNNING: z.strictObject({ taskId: z.string().min(1), attempt: z.int().min(1), workerId: z.string(), startedAt: Iso }),
  APPEND_OUTPUT: z.strictObject({ taskId: z.string().min(1), text: z.string().max(64 * 1024), bytes: z.int().min(0).optional() }),
  MARK_RETRYING: z.strictObject({ taskId: z.string().min(1), attempt: z.int().min(1), error: z.object({ code: z.string(), message: z.string() }), retryInMs: z.number().min(0), at: Iso }),
  MARK_COMPLETED: z.strictObject({ taskId: z.string().min(1), result: Json, exitCode: z.int().nullable().optional(), costUsd: z.number().nullable().optional(), durationMs: z.number().nullable().optional(), finishedAt: Iso }),
  MARK_FAILED: z.strictObject({ taskId: z.string().min(1), error: z.object({ code: z.string(), message: z.string() }), result: Json.optional(), exitCode: z.int().nullable().optional(), durationMs: z.number().nullable().optional(), finishedAt: Iso }),
  MARK_CANCELLED: z.strictObject({ taskId: z.string().min(1), reason: z.string(), finishedAt: Iso }),
  ADD_NOTICE: z.strictObject({ level: z.enum(["info", "warning", "error"]), message: z.string().min(1).max(2000), at: Iso }),
  REJECT_REQUEST: z.strictObject({ requestId: z.string().min(1), error: z.object({ code: z.string(), message: z.string() }), at: Iso }),
} as const;

export type TaskOperationType = keyof typeof OPERATION_INPUTS;
export type TaskOperationInput<T extends TaskOperationType> = z.input<(typeof OPERATION_INPUTS)[T]>;
export type TaskOperationOutput<T extends TaskOperationType> = z.output<(typeof OPERATION_INPUTS)[T]>;

/** An operation the task document refuses: an invalid input or a forbidden transition. */
export class TaskDocumentError extends Error {
  override name = "TaskDocumentError";
}

/** Checks an operation's input; the message names every wrong field (it ends up in the document's history). */
export function parseOperationInput<T extends TaskOperationType>(type: T, input: unknown): TaskOperationOutput<T> {
  const result = (OPERATION_INPUTS[type] as z.ZodType).safeParse(input);
  if (!result.success) {
    const detail = result.error.issues.map((i) => `${i.path.join(".") || "(input)"}: ${i.message}`).join("; ");
    throw new TaskDocumentError(`${type}: invalid input: ${detail}`);
  }
  return result.data as TaskOperationOutput<T>;
}

export const PERSON_OPERATION_TYPES: ReadonlySet<string> = new Set(["SET_SPEC", "REQUEST_RUN", "CANCEL", "RETRY", "APPROVE", "REJECT"]);
/** A person's decision on an approval task. */
export const DECISION_TYPES: ReadonlySet<string> = new Set(["APPROVE", "REJECT"]);
/** What asks for a run of the task. */
export const RUN_REQUEST_TYPES: ReadonlySet<string> = new Set(["REQUEST_RUN", "RETRY"]);
/** What the agent writes: never a trigger (loop protection). */
export const AGENT_OPERATION_TYPES: ReadonlySet<string> = new Set(["MARK_QUEUED", "MARK_RUNNING", "APPEND_OUTPUT", "MARK_RETRYING", "MARK_COMPLETED", "MARK_FAILED", "MARK_CANCELLED", "ADD_NOTICE", "REJECT_REQUEST"]);

const ERROR_TYPE = "TaskErrorInput";
/** GraphQL input types, as Powerhouse specs carry them. JSON values are the JSONObject scalar. */
export const OPERATION_GRAPHQL: Record<TaskOperationType, { description: string; schema: string; module: "spec" | "run" | "report" }> = {
  SET_SPEC: { module: "spec", description: "Change what the task runs (refused while it is requested, queued or running); taskType \"pipeline\" with params { steps, onFailure } or { template, params } asks for a pipeline", schema: "input SetSpecInput {\n  title: String\n  instructions: String\n  taskType: String\n  params: JSONObject\n  priority: Int\n  maxAttempts: Int\n  timeoutMs: Int\n}" },
  REQUEST_RUN: { module: "run", description: "Ask the agent to run the task", schema: "input RequestRunInput {\n  requestId: String\n  reason: String\n}" },
  CANCEL: { module: "run", description: "Ask the agent to stop the task", schema: "input CancelInput {\n  reason: String\n}" },
  RETRY: { module: "run", description: "Run a finished task again", schema: "input RetryInput {\n  reason: String\n}" },
  APPROVE: { module: "run", description: "Approve a waiting approval task (taskType approval): it completes, and what waits for it runs", schema: "input ApproveInput {\n  note: String\n}" },
  REJECT: { module: "run", description: "Reject a waiting approval task: it fails, and what waits for it is cancelled or waits", schema: "input RejectInput {\n  note: String\n}" },
  MARK_QUEUED: { module: "report", description: "Agent: the run request was accepted", schema: "input MarkQueuedInput {\n  taskId: String!\n  requestId: String!\n}" },
  MARK_RUNNING: { module: "report", description: "Agent: an attempt started", schema: "input MarkRunningInput {\n  taskId: String!\n  attempt: Int!\n  workerId: String!\n  startedAt: DateTime!\n}" },
  APPEND_OUTPUT: { module: "report", description: "Agent: new output (bounded tail)", schema: "input AppendOutputInput {\n  taskId: String!\n  text: String!\n  bytes: Int\n}" },
  MARK_RETRYING: { module: "report", description: "Agent: an attempt failed and will be retried", schema: `input MarkRetryingInput {\n  taskId: String!\n  attempt: Int!\n  error: ${ERROR_TYPE}!\n  retryInMs: Int!\n  at: DateTime!\n}` },
  MARK_COMPLETED: { module: "report", description: "Agent: the task completed", schema: "input MarkCompletedInput {\n  taskId: String!\n  result: JSONObject\n  exitCode: Int\n  costUsd: Float\n  durationMs: Int\n  finishedAt: DateTime!\n}" },
  MARK_FAILED: { module: "report", description: "Agent: the task failed", schema: `input MarkFailedInput {\n  taskId: String!\n  error: ${ERROR_TYPE}!\n  result: JSONObject\n  exitCode: Int\n  durationMs: Int\n  finishedAt: DateTime!\n}` },
  MARK_CANCELLED: { module: "report", description: "Agent: the task was cancelled", schema: "input MarkCancelledInput {\n  taskId: String!\n  reason: String!\n  finishedAt: DateTime!\n}" },
  ADD_NOTICE: { module: "report", description: "Agent: something a person should know (e.g. a dropped request)", schema: "input AddNoticeInput {\n  level: String!\n  message: String!\n  at: DateTime!\n}" },
  REJECT_REQUEST: { module: "report", description: "Agent: the run request cannot be served (invalid task, rate cap, chain depth)", schema: `input RejectRequestInput {\n  requestId: String!\n  error: ${ERROR_TYPE}!\n  at: DateTime!\n}` },
};
