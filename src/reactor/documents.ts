/**
 * Task documents in drives: create one (in a drive, with its spec and optionally a run request),
 * find them all (the start-up scan), read one.
 */
import { addFile, deleteNode, type IDocumentDriveServer } from "document-drive";
import type { Action } from "document-model";
import { actions } from "./task-document/actions.js";
import type { TaskDocument } from "./task-document/module.js";
import { parseOperationInput, type TaskOperationInput } from "./task-document/operations.js";
import { TASK_DOCUMENT_TYPE, type TaskDocumentState } from "./task-document/state.js";

export class DocumentActionError extends Error {}

/** Applies an action and reports a rejected one (reducer error) as an error, not as success. */
export async function dispatch(reactor: IDocumentDriveServer, documentId: string, action: Action): Promise<void> {
  const result = await reactor.addAction(documentId, action);
  const rejected = result.operations.find((op) => op.error);
  if (result.status !== "SUCCESS" || rejected) {
    throw new DocumentActionError(`${action.type} on ${documentId} was refused: ${rejected?.error ?? result.error?.message ?? result.status}`);
  }
}

/** Drive node names allow letters, digits, space and -_.() only (document-drive's isValidName). */
export function nodeName(title: string): string {
  const name = title.replace(/[^a-zA-Z0-9\-_.\s()]+/g, " ").replace(/\s+/g, " ").trim().slice(0, 80);
  return name.length > 0 ? name : "Task";
}

export interface NewTaskDocument {
  name?: string;
  /** The folder of the drive it goes in (default: the drive's root). */
  parentFolder?: string | null;
  spec: TaskOperationInput<"SET_SPEC">;
  requestRun?: boolean | { requestId?: string };
}

export async function addTaskDocument(reactor: IDocumentDriveServer, driveId: string, input: NewTaskDocument): Promise<string> {
  const requestId = typeof input.requestRun === "object" ? input.requestRun.requestId : undefined;
  const requestInput = requestId ? { requestId } : {};
  // Checked first, so an invalid spec leaves no empty document behind (throws TaskDocumentError).
  parseOperationInput("SET_SPEC", input.spec);
  parseOperationInput("REQUEST_RUN", requestInput);
  const document = await reactor.addDocument<TaskDocument>(TASK_DOCUMENT_TYPE);
  const id = document.header.id;
  await dispatch(reactor, driveId, addFile({ id, name: nodeName(input.name ?? input.spec.title ?? "Task"), documentType: TASK_DOCUMENT_TYPE, parentFolder: input.parentFolder ?? null }));
  await dispatch(reactor, id, actions.setSpec(input.spec));
  if (input.requestRun) await dispatch(reactor, id, actions.requestRun(requestInput));
  return id;
}

/** Takes a document out of its drive and deletes it. */
export async function removeDocument(reactor: IDocumentDriveServer, driveId: string, documentId: string): Promise<void> {
  await dispatch(reactor, driveId, deleteNode({ id: documentId }));
  await reactor.deleteDocument(documentId);
}

export async function getTaskDocumentState(reactor: IDocumentDriveServer, id: string): Promise<TaskDocumentState> {
  const document = await reactor.getDocument<TaskDocument>(id);
  return document.state.global;
}

export interface DocumentLocation {
  documentId: string;
  driveId: string;
  documentType: string;
  name: string;
}

/** Every document of every drive, with the drive that holds it (file nodes of each drive). */
export async function listDocuments(reactor: IDocumentDriveServer): Promise<DocumentLocation[]> {
  const found: DocumentLocation[] = [];
  for (const driveId of await reactor.getDrives()) {
    const drive = await reactor.getDrive(driveId);
    for (const node of drive.state.global.nodes) {
      if (node.kind === "file" && "documentType" in node) found.push({ documentId: node.id, driveId, documentType: node.documentType, name: node.name });
    }
  }
  return found;
}

export async function listTaskDocuments(reactor: IDocumentDriveServer): Promise<DocumentLocation[]> {
  return (await listDocuments(reactor)).filter((d) => d.documentType === TASK_DOCUMENT_TYPE);
}

/** The type of the operation that made run request `requestId` on a task document (REQUEST_RUN, RETRY). */
export async function requestOperationType(reactor: IDocumentDriveServer, documentId: string, requestId: string): Promise<string | undefined> {
  const document = await reactor.getDocument(documentId);
  return (document.operations.global ?? []).findLast((op) => op.action.id === requestId || (op.action.input as { requestId?: string } | undefined)?.requestId === requestId)?.action.type;
}
