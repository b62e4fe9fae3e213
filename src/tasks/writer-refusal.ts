/**
 * The event handler's use of TASK_AUTHORIZED_WRITERS: why the writer of a run request, cancel or
 * triggering operation may not start or stop work, or undefined when it may.
 */
import type { IDocumentDriveServer } from "document-drive";
import type { Action, PHDocument } from "document-model";
import { RUN_REQUEST_TYPES } from "../reactor/task-document/operations.js";
import type { WriterPolicy } from "../security/authorized-writers.js";


/** Without the action (a request found by the start-up scan), the document's last run request is checked. */
export async function writerRefusal(
  writers: WriterPolicy | undefined,
  reactor: IDocumentDriveServer,
  documentId: string,
  action: Action | undefined,
): Promise<{ code: string; message: string } | undefined> {
  if (!writers || writers.open) return undefined;
  let checked = action;
  if (!checked) {
    const document = await reactor.getDocument<PHDocument>(documentId);
    checked = (document.operations.global ?? []).filter((op) => RUN_REQUEST_TYPES.has(op.action.type)).at(-1)?.action;
  }
  if (!checked) return { code: "unsigned_operation", message: "the run request's operation was not found, so its writer cannot be checked" };
  const verdict = await writers.check(documentId, checked);
  return verdict.ok ? undefined : { code: verdict.code, message: verdict.message };
}
