/**
 * Creating a task through the API also creates its task document in the local drive, so every
 * task is visible (and cancellable) in the drive like one a person created there. A request that
 * names its own source document is linked to that document instead.
 */
import type { IDocumentDriveServer } from "document-drive";
import type { LocalDrives } from "../reactor/local-drives.js";
import { addTaskDocument, dispatch, removeDocument } from "../reactor/documents.js";
import { actions } from "../reactor/task-document/actions.js";
import { TaskDocumentError } from "../reactor/task-document/operations.js";
import { TASK_DOCUMENT_TYPE } from "../reactor/task-document/state.js";
import { attributed } from "./attribution.js";
import { ValidationError } from "../validation.js";
import type { TaskManager } from "./task-manager.js";
import { specFromRequest, TASK_REQUEST_PREFIX } from "./task-from-document.js";
import { parseTaskRequest, type TaskRequest } from "./task-request.js";
import { requestProblems } from "./admit-tasks.js";
import type { EnqueueOptions } from "./enqueue-options.js";
import type { Task } from "./types.js";

type Stored = { task: Task; created: boolean };

/** Where new task documents go: one drive, or the agent's local drives (a new one when the newest is full). */
export type NewDocumentDrives = string | Pick<LocalDrives, "forNewDocument" | "removed">;

/** Several tasks at once, stored in one transaction (a pipeline's steps): each gets its document. */
export type TaskBatchCreator = (inputs: readonly unknown[], options: EnqueueOptions & { origin: string; by?: string | undefined }) => Promise<Stored[]>;

export function createApiTaskCreator(manager: TaskManager, reactor: IDocumentDriveServer, drives: NewDocumentDrives) {
  const documents = taskDocuments(manager, reactor, drives);
  /**
   * `origin`: who asked (source.origin), "api" unless a schedule ("schedule:<name>") says otherwise;
   * `by`: the person, as proven (source.by: a named token's name), if any.
   */
  return async (input: unknown, origin = "api", by?: string): Promise<Stored> => {
    const request = parsed(manager, input, "task");
    const key = typeof request.idempotencyKey === "string" ? request.idempotencyKey : undefined;
    if (key) {
      const existing = await manager.findByIdempotencyKey(key);
      if (existing) return { task: existing, created: false };
    }
    const [stored] = await documents.create([request], { origin, by }, (linked) => manager.enqueueTasks(linked));
    if (!stored) throw new Error("enqueue returned nothing");
    return stored;
  };
}

export function createApiTaskBatchCreator(manager: TaskManager, reactor: IDocumentDriveServer, drives: NewDocumentDrives): TaskBatchCreator {
  const documents = taskDocuments(manager, reactor, drives);
  return (inputs, { origin, by, ...options }) => {
    const requests = inputs.map((input, index) => parsed(manager, input, `task #${index}`));
    return documents.create(requests, { origin, by }, (linked) => manager.enqueueTasks(linked, options));
  };
}

function parsed(manager: TaskManager, input: unknown, label: string): TaskRequest {
  const result = parseTaskRequest(input, manager.registry);
  if (!result.ok) throw new ValidationError(label, result.errors);
  return result.value;
}

function taskDocuments(manager: TaskManager, reactor: IDocumentDriveServer, drives: NewDocumentDrives) {
  const nextDrive = (): Promise<string> => (typeof drives === "string" ? Promise.resolve(drives) : drives.forNewDocument());
  /** Takes a document made for a request out again (the request refused, or its task made by another). */
  const remove = async ({ documentId, driveId }: { documentId: string; driveId: string }): Promise<void> => {
    await removeDocument(reactor, driveId, documentId);
    if (typeof drives !== "string") drives.removed(driveId);
  };
  /**
   * Adds a document for each request that names none, enqueues the requests linked to them, and
   * asks each new document to run its task. A refusal anywhere removes the documents made.
   */
  const create = async (requests: readonly TaskRequest[], asker: { origin: string; by: string | undefined }, enqueue: (linked: unknown[]) => Promise<Stored[]>): Promise<Stored[]> => {
    const { origin } = asker;
    // Refused before any document is added to the drive, where it would sync before being removed.
    const problems = (await Promise.all(requests.map((request) => requestProblems(manager.registry, request)))).flat();
    if (problems.length > 0) throw new ValidationError("task", problems);
    /** The document made for each request, and its drive (undefined: it named its own). */
    const made: ({ documentId: string; driveId: string } | undefined)[] = [];
    let stored: Stored[];
    try {
      const linked: unknown[] = [];
      for (const request of requests) {
        // source.origin and source.by are always the agent's to say: a caller cannot pass its task
        // off as a rule's, a schedule's or a hook's, nor as asked for by someone else.
        const source = ((attributed(request, asker.by) as TaskRequest).source ?? {}) as Record<string, unknown>;
        if (typeof source.documentId === "string") {
          made.push(undefined);
          linked.push({ ...request, source: { ...source, origin } });
          continue;
        }
        const driveId = await nextDrive();
        const documentId = await addDocument(request, driveId);
        made.push({ documentId, driveId });
        linked.push({ ...request, source: { ...source, origin, documentId, driveId, documentType: TASK_DOCUMENT_TYPE } });
      }
      stored = await enqueue(linked);
    } catch (error) {
      // Refused by the document model or the store (a dependency that names no task): no task, so no document either.
      for (const document of made) if (document) await remove(document);
      throw error;
    }
    for (const [index, { task, created }] of stored.entries()) {
      const document = made[index];
      if (!document) continue;
      // Another request with the same key (a repeated webhook delivery, a firing taken over) made
      // the task between our look and our insert: its document is the task's, ours goes.
      if (!created) await remove(document);
      // The document's run request names the task, so the event handler links it instead of enqueueing again.
      else await dispatch(reactor, document.documentId, actions.requestRun({ requestId: `${TASK_REQUEST_PREFIX}${task.id}` }));
    }
    return stored;
  };

  const addDocument = async (request: TaskRequest, driveId: string): Promise<string> => {
    try {
      return await addTaskDocument(reactor, driveId, { spec: specFromRequest(request), name: request.title });
    } catch (error) {
      // The document model refused the spec: the request's fault, answered as a 400.
      if (error instanceof TaskDocumentError) throw new ValidationError("task", [{ field: "(document)", message: error.message }]);
      throw error;
    }
  };
  return { create };
}
