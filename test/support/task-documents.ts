/** Waiting on a task document in a reactor, as the agent's tests watch one. */
import type { IDocumentDriveServer } from "document-drive";
import { getTaskDocumentState } from "../../src/reactor/documents.js";
import type { TaskDocumentState } from "../../src/reactor/task-document/state.js";
import { waitFor } from "./process.js";

/** The document's state once its status is one of `statuses`. */
export function documentReaches(reactor: IDocumentDriveServer, id: string, statuses: string[], timeoutMs = 30_000): Promise<TaskDocumentState> {
  return waitFor(async () => {
    const state = await getTaskDocumentState(reactor, id);
    return statuses.includes(state.status) ? state : undefined;
  }, timeoutMs, `document ${id} to reach ${statuses.join("/")}`);
}
