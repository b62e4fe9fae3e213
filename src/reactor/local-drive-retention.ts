/**
 * Retention for the agent's full local drives (local-drives.ts): a full drive whose every document
 * is a task document the agent made, none of them waiting for or running a task, and none of
 * whose tasks the store still holds (TASK_RESULT_TTL removed them) is removed with its documents —
 * so that an agent running for months does not keep a drive, and load it at every start, for every
 * thousand tasks it ever made. The first drive ("tasks") and the newest are never removed; a drive
 * holding anything else (a document a person or an agent put there) is kept.
 */
import type { IDocumentDriveServer } from "document-drive";
import type { Logger } from "../logger.js";
import { getTaskDocumentState } from "./documents.js";
import type { LocalDrives } from "./local-drives.js";
import { TASK_DOCUMENT_TYPE } from "./task-document/state.js";

export interface LocalDriveRetentionDeps {
  reactor: IDocumentDriveServer;
  drives: Pick<LocalDrives, "fullDrives" | "forget">;
  /** Which of these task ids the store still holds. */
  existingTaskIds: (ids: readonly string[]) => Promise<string[]>;
  logger: Logger;
}

/** Document statuses that still expect the agent to act. */
const WAITING = new Set(["requested", "queued", "running"]);

/** Removes the full local drives that are spent; returns their ids. */
export async function removeSpentLocalDrives(deps: LocalDriveRetentionDeps): Promise<string[]> {
  const removed: string[] = [];
  for (const driveId of deps.drives.fullDrives()) {
    try {
      const documents = await spentDocuments(deps, driveId);
      if (!documents) continue;
      // The documents first: removing a drive leaves its documents' files behind.
      for (const documentId of documents) await deps.reactor.deleteDocument(documentId);
      await deps.reactor.deleteDrive(driveId);
      deps.drives.forget(driveId);
      removed.push(driveId);
      deps.logger.info({ driveId, documents: documents.length }, "removed a full local drive: every task of its documents is past retention");
    } catch (error) {
      deps.logger.warn({ err: error, driveId }, "could not look at or remove a full local drive; trying again at the next cleanup");
    }
  }
  return removed;
}

/** The drive's documents when it is spent (all task documents, none waiting, no task left); undefined to keep it. */
async function spentDocuments(deps: LocalDriveRetentionDeps, driveId: string): Promise<string[] | undefined> {
  const drive = await deps.reactor.getDrive(driveId);
  const files = drive.state.global.nodes.filter((node) => node.kind === "file");
  if (files.some((node) => !("documentType" in node) || node.documentType !== TASK_DOCUMENT_TYPE)) return undefined;
  const taskIds: string[] = [];
  for (const file of files) {
    const state = await getTaskDocumentState(deps.reactor, file.id);
    if (WAITING.has(state.status)) return undefined;
    if (state.currentTaskId) taskIds.push(state.currentTaskId);
    for (const run of state.runs) taskIds.push(run.taskId);
  }
  if ((await deps.existingTaskIds([...new Set(taskIds)])).length > 0) return undefined;
  return files.map((file) => file.id);
}
