/**
 * The mapping between a task document's spec and a task request, both ways.
 */
import type { DocumentLocation } from "../reactor/documents.js";
import type { TaskOperationInput } from "../reactor/task-document/operations.js";
import { TASK_DOCUMENT_TYPE, type TaskDocumentState } from "../reactor/task-document/state.js";
import type { TaskRequest } from "./task-request.js";
import { BASE_TASK_FIELDS, type TaskSource } from "./types.js";

export const documentIdempotencyKey = (documentId: string, requestId: string) => `doc:${documentId}:${requestId}`;

/** source.origin of the work a task document asks for. */
export const TASK_DOCUMENT_ORIGIN = "document";

/**
 * The drive whose writers asked for a task: a task document's (or its pipeline's) or a rule's, set
 * off by a change of a document there; undefined for the owner's own tasks (the API, the CLI,
 * schedules, hooks), whose task documents sit in the agent's local drives (holder-budget.ts).
 */
export function writersDrive(source: TaskSource | undefined): string | undefined {
  const origin = source?.origin ?? "";
  return source?.driveId !== undefined && (origin === TASK_DOCUMENT_ORIGIN || origin.startsWith("rule:")) ? source.driveId : undefined;
}

/** A request id that names an existing task: the API enqueues first, then asks the document. */
export const TASK_REQUEST_PREFIX = "task:";

/**
 * In a task document's params, `continueFrom: "previous"` names the last task the document ran (its
 * run history's newest): a writer continues the document's conversation without copying an id.
 * With no run yet it stays as written, and is refused naming it (follow-ups.ts).
 */
export const PREVIOUS_TASK = "previous";

export function requestFromTaskDocument(state: TaskDocumentState, location: Pick<DocumentLocation, "documentId" | "driveId">, requestId: string, operation?: RequestOperation): Record<string, unknown> {
  const previous = state.params.continueFrom === PREVIOUS_TASK ? state.runs.at(-1)?.taskId : undefined;
  return {
    ...state.params,
    ...(previous !== undefined ? { continueFrom: previous } : {}),
    type: state.taskType,
    title: state.title,
    instructions: state.instructions,
    ...(state.priority !== null ? { priority: state.priority } : {}),
    ...(state.maxAttempts !== null ? { maxAttempts: state.maxAttempts } : {}),
    ...(state.timeoutMs !== null ? { timeoutMs: state.timeoutMs } : {}),
    idempotencyKey: documentIdempotencyKey(location.documentId, requestId),
    source: taskDocumentSource(location, operation),
  };
}

/** The operation that asked a task document for work; `by`: its writer's name, when a verified named key signed it. */
export interface RequestOperation {
  id: string;
  type: string;
  by?: string | undefined;
}

/** The source of work a task document asks for (a task, or a pipeline's steps): that document, a person's request. */
export function taskDocumentSource(location: Pick<DocumentLocation, "documentId" | "driveId">, operation?: RequestOperation): TaskSource {
  return {
    driveId: location.driveId,
    documentId: location.documentId,
    documentType: TASK_DOCUMENT_TYPE,
    ...(operation ? { operationId: operation.id, operationType: operation.type } : {}),
    ...(operation?.by !== undefined ? { by: operation.by } : {}),
    origin: TASK_DOCUMENT_ORIGIN,
    chainDepth: 0,
  };
}

export function specFromRequest(request: TaskRequest): TaskOperationInput<"SET_SPEC"> {
  const params: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(request)) if (!BASE_TASK_FIELDS.has(key) && value !== undefined) params[key] = value;
  return {
    title: request.title,
    instructions: request.instructions,
    taskType: request.type,
    params: JSON.parse(JSON.stringify(params)) as Record<string, never>,
    ...(typeof request.priority === "number" ? { priority: request.priority } : {}),
    ...(typeof request.maxAttempts === "number" ? { maxAttempts: request.maxAttempts } : {}),
    ...(typeof request.timeoutMs === "number" ? { timeoutMs: request.timeoutMs } : {}),
  };
}
