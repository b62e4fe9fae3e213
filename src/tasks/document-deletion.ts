/**
 * A document taken out of its drive ends the work it asked for: its tasks that wait or run are
 * cancelled, with the reason, wherever they run (a running one's process group is killed by the
 * worker that holds it). Finished tasks and their results stay. After any DELETE_NODE in a drive,
 * the drive's unfinished tasks are checked against the files the drive still holds — so a document
 * removed itself, or inside a folder that was removed, is seen alike.
 */
import type { IDocumentDriveServer } from "document-drive";
import type { Logger } from "../logger.js";
import type { TaskManager } from "./task-manager.js";

const DELETED_DOCUMENT_REASON = "its document was deleted";

/** Whether a drive's operations delete a node (a file, or a folder with what it holds). */
export function deletesNodes(operations: readonly { action: { type: string } }[]): boolean {
  return operations.some((op) => op.action.type === "DELETE_NODE");
}

/** Cancels the unfinished tasks of the drive's documents that are no longer in it; returns how many. */
export async function cancelTasksOfRemovedDocuments(manager: TaskManager, reactor: IDocumentDriveServer, driveId: string, logger: Logger): Promise<number> {
  const drive = await reactor.getDrive(driveId);
  const present = new Set(drive.state.global.nodes.filter((node) => node.kind === "file").map((node) => node.id));
  const { tasks } = await manager.listTasks({ driveId, status: ["pending", "running"], limit: 1000, offset: 0 });
  const cancelled = new Map<string, number>();
  for (const task of tasks) {
    const documentId = task.source?.documentId;
    // A running task asked to stop already is on its way out.
    if (documentId === undefined || present.has(documentId) || task.runtime.cancelRequested) continue;
    if (await manager.cancelTask(task.id, DELETED_DOCUMENT_REASON)) cancelled.set(documentId, (cancelled.get(documentId) ?? 0) + 1);
  }
  for (const [documentId, count] of cancelled) logger.info({ documentId, cancelled: count }, "cancelled the unfinished tasks of a deleted document");
  return [...cancelled.values()].reduce((sum, n) => sum + n, 0);
}
