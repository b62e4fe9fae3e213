/**
 * Creating a task through the API also creates its task document in the local drive, so every
 * task is visible (and cancellable) in the drive like one a person created there. A request that
 * names its own source document is linked to that document instead.
 */
import type { IDocumentDriveServer } from "document-drive";
import { addTaskDocument, dispatch, removeDocument } from "../reactor/documents.js";
import { actions } from "../reactor/task-document/actions.js";
import { TaskDocumentError } from "../reactor/task-document/operations.js";
import { TASK_DOCUMENT_TYPE } from "../reactor/task-document/state.js";
import { ValidationError } from "../validation.js";
import type { TaskManager } from "./task-manager.js";
import { specFromRequest, TASK_REQUEST_PREFIX } from "./task-from-document.js";
import { parseTaskRequest } from "./task-request.js";
import { requestProblems } from "./admit-tasks.js";
import type { Task } from "./types.js";

export function createApiTaskCreator(manager: TaskManager, reactor: IDocumentDriveServer, driveId: string) {
  /** `origin`: who asked (source.origin), "api" unless a schedule ("schedule:<name>") says otherwise. */
  return async (input: unknown, origin = "api"): Promise<{ task: Task; created: boolean }> => {
    const parsed = parseTaskRequest(input, manager.registry);
    if (!parsed.ok) throw new ValidationError("task", parsed.errors);
    const request = parsed.value;
    const key = typeof request.idempotencyKey === "string" ? request.idempotencyKey : undefined;
    if (key) {
      const existing = await manager.findByIdempotencyKey(key);
      if (existing) return { task: existing, created: false };
    }
    const source = (request.source ?? {}) as Record<string, unknown>;
    // source.origin is always the agent's to say: a caller cannot pass its task off as a rule's, a schedule's or a hook's.
    if (typeof source.documentId === "string") return manager.enqueueTask({ ...request, source: { ...source, origin } });

    // Refused before its document is added to the drive, where it would sync before being removed.
    const problems = await requestProblems(manager.registry, request);
    if (problems.length > 0) throw new ValidationError("task", problems);
    let documentId: string;
    try {
      documentId = await addTaskDocument(reactor, driveId, { spec: specFromRequest(request), name: request.title });
    } catch (error) {
      // The document model refused the spec: the request's fault, answered as a 400.
      if (error instanceof TaskDocumentError) throw new ValidationError("task", [{ field: "(document)", message: error.message }]);
      throw error;
    }
    let stored: { task: Task; created: boolean };
    try {
      stored = await manager.enqueueTask({ ...request, source: { ...source, origin, documentId, driveId, documentType: TASK_DOCUMENT_TYPE } });
    } catch (error) {
      // Refused by the store (a dependency that names no task): no task, so no document either.
      await removeDocument(reactor, driveId, documentId);
      throw error;
    }
    if (!stored.created) {
      // Another request with the same key (a repeated webhook delivery, a firing taken over) made
      // the task between our look and our insert: its document is the task's, ours goes.
      await removeDocument(reactor, driveId, documentId);
      return stored;
    }
    // The document's run request names the task, so the event handler links it instead of enqueueing again.
    await dispatch(reactor, documentId, actions.requestRun({ requestId: `${TASK_REQUEST_PREFIX}${stored.task.id}` }));
    return stored;
  };
}
