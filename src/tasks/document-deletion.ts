/**
 * A document taken out of its drive ends the work it asked for: its tasks that wait or run are
 * cancelled, with the reason, wherever they run (a running one's process group is killed by the
 * worker that holds it). Finished tasks and their results stay. Only a document removed itself is
 * seen (a DELETE_NODE of it); one inside a folder that is removed is not.
 */
import type { Logger } from "../logger.js";
import type { TaskManager } from "./task-manager.js";

export const DELETED_DOCUMENT_REASON = "its document was deleted";

/** The ids of the nodes a drive's operations delete. */
export function deletedNodeIds(operations: readonly { action: { type: string; input: unknown } }[]): string[] {
  const ids: string[] = [];
  for (const op of operations) {
    const input = op.action.input as { id?: unknown } | null;
    if (op.action.type === "DELETE_NODE" && typeof input?.id === "string") ids.push(input.id);
  }
  return ids;
}

/** Cancels the unfinished tasks of a deleted document; returns how many. */
export async function cancelTasksOfDeletedDocument(manager: TaskManager, documentId: string, logger: Logger): Promise<number> {
  let cancelled = 0;
  // Pages of at most 500; each round cancels what it lists, so the next finds the rest.
  for (;;) {
    const { tasks } = await manager.listTasks({ documentId, status: ["pending", "running"], limit: 500, offset: 0 });
    const fresh = tasks.filter((t) => !t.runtime.cancelRequested);
    for (const task of fresh) if (await manager.cancelTask(task.id, DELETED_DOCUMENT_REASON)) cancelled++;
    if (tasks.length < 500 || fresh.length === 0) break;
  }
  if (cancelled > 0) logger.info({ documentId, cancelled }, "cancelled the unfinished tasks of a deleted document");
  return cancelled;
}
