/**
 * A person's decision on an approval task (executors/approval-executor.ts, migration 036), from the
 * API, the CLI or a task document: recorded, or refused saying why — no such task, not an
 * approval, decided already (by whom), or no longer waiting.
 */
import type { Action } from "document-model";
import { z } from "zod";
import type { Decision } from "../store/sql/decide-approval.js";
import { APPROVAL_TYPE } from "../store/migrations/036-approvals.js";
import type { Logger } from "../logger.js";
import type { WriterCheck, WriterPolicy } from "../security/authorized-writers.js";
import { rowToTask, type TaskStore } from "../store/task-store.js";
import { approversOf, awaitedApprovers, countedApprovals, DecisionSchema, requiredApprovals } from "./executors/approval-executor.js";
import { logTransition } from "./task-events.js";
import type { TaskManager } from "./task-manager.js";
import type { Task } from "./types.js";

/**
 * What comes with a decision: who, and why. `by` is a name, not checked, for a token that names no
 * one; a named token's (API_USERS) decision is by its name, and another `by` is refused.
 */
export const DecisionInputSchema = z.strictObject({
  by: z.string().trim().min(1, "must not be empty").max(200).optional(),
  note: z.string().max(2000).optional(),
});

export type DecisionRefusal = {
  status: 403 | 404 | 409;
  error: "not_found" | "not_an_approval" | "already_decided" | "not_waiting" | "not_an_approver" | "already_counted";
  message: string;
};

export async function decide(manager: TaskManager, id: string, decision: Decision): Promise<{ task: Task } | DecisionRefusal> {
  const task = await manager.decideApproval(id, decision);
  if (task) return { task };
  const now = await manager.getTask(id);
  if (!now) return { status: 404, error: "not_found", message: `no task ${id}` };
  if (now.type !== APPROVAL_TYPE) return { status: 409, error: "not_an_approval", message: `task ${id} is a ${now.type} task, not an approval` };
  const made = DecisionSchema.safeParse((now as { decision?: unknown }).decision);
  if (made.success) return { status: 409, error: "already_decided", message: `task ${id} was ${made.data.approved ? "approved" : "rejected"} by ${made.data.by} at ${made.data.at}` };
  if (now.status !== "pending") return { status: 409, error: "not_waiting", message: `task ${id} is ${now.status}: only a waiting approval can be decided (retry it to ask again)` };
  const counted = countedApprovals(now);
  if (counted.some((approval) => approval.by === decision.by)) {
    return { status: 409, error: "already_counted", message: `${decision.by} approved task ${id} already (${counted.length} of ${requiredApprovals(now)}); it waits for ${awaitedApprovers(now).join(", ")}` };
  }
  const approvers = approversOf(now) ?? [];
  const who = decision.approver === undefined ? "this decision names no one it can prove (use a token of API_USERS, or sign with a named key of TASK_AUTHORIZED_WRITERS)" : `${decision.approver} is not one of them`;
  return { status: 403, error: "not_an_approver", message: `task ${id} may be decided only by ${approvers.join(", ")}: ${who}` };
}

/**
 * APPROVE / REJECT on an approval's task document: its writer checked (TASK_AUTHORIZED_WRITERS,
 * when set), then decided for the task the document queued. Undefined when recorded; else why
 * not, for a notice in the document.
 */
export async function decideFromDocument(manager: TaskManager, writers: WriterPolicy | undefined, documentId: string, currentTaskId: string | null, action: Action): Promise<{ message: string; counted?: true } | undefined> {
  const verdict: WriterCheck = writers && !writers.open ? await writers.check(documentId, action) : { ok: true };
  if (!verdict.ok) return { message: verdict.message };
  if (!currentTaskId) return { message: "no task of this document waits for a decision" };
  const note = (action.input as { note?: unknown } | undefined)?.note; // at most 2,000 characters: the reducer checked it
  const signer = action.context?.signer;
  // Who: the name its verified key was listed under; else as the operation says — its signer (an
  // authorised app key's, when TASK_AUTHORIZED_WRITERS is set), else its document. Bounded as
  // the API's `by` is (200): a signer's names come from whoever wrote the operation.
  const by = (verdict.name ?? (signer ? `${signer.user.address || "a user"} (app ${signer.app.name})` : "a writer of its document")).slice(0, 200);
  const outcome = await decide(manager, currentTaskId, { approved: action.type === "APPROVE", by, approver: verdict.name, ...(typeof note === "string" ? { note } : {}) });
  if (!("task" in outcome)) return { message: outcome.message };
  return countedNotice(outcome.task);
}

/** For an approval that needs several and is not decided yet: what was counted, for the document. */
function countedNotice(task: Task): { message: string; counted: true } | undefined {
  if ((task as { decision?: unknown }).decision !== undefined) return undefined;
  const counted = countedApprovals(task);
  return { counted: true, message: `approval by ${counted.at(-1)?.by ?? "?"} counted (${counted.length} of ${requiredApprovals(task)}); waits for ${awaitedApprovers(task).join(", ")}` };
}

/** How often each worker looks for approvals whose dependencies have completed. */
export const APPROVAL_ASK_MS = 1000;

/** Tells of each approval that now waits for a decision alone: logged, and `awaitingApproval` emitted (its document, the webhooks). */
export async function askForApprovals(store: TaskStore, manager: TaskManager, logger: Logger): Promise<void> {
  for (const row of await store.takeApprovalAsks(50)) {
    const task = rowToTask(row);
    logTransition(logger, task, "awaiting approval", {});
    manager.emit("awaitingApproval", task);
  }
}
