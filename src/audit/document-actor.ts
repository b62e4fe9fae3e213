/**
 * Who wrote a task document's operation, as the audit log names them: the name its app key was
 * listed under (TASK_AUTHORIZED_WRITERS=alice=did:key:…), else its signer's user and app; with no
 * writer list the signature was not verified, and the entry says so.
 */
import type { Action } from "document-model";
import type { WriterPolicy } from "../security/authorized-writers.js";

export function documentActor(action: Action, writers: WriterPolicy | undefined): string {
  const signer = action.context?.signer;
  if (!signer) return "an unsigned writer";
  const verified = writers !== undefined && !writers.open;
  const who = writers?.nameOf(signer.app.key) ?? `${signer.user.address || "a user"} (app ${signer.app.name})`;
  return verified ? who : `${who}, not verified`;
}
