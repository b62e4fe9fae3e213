/**
 * The "approval" task type: a person decides, the agent runs nothing. Such a task waits — in no
 * worker's slot — until someone approves or rejects it (`ph-tasks approve <id>`, the API, its task
 * document's APPROVE / REJECT; migration 036); then it runs here for a moment: completed when
 * approved (its dependents go on), failed for good when rejected (its dependents are cancelled or
 * wait, as for any failed dependency). Put one between a pipeline's build and its deploy.
 */
import { z } from "zod";
import { APPROVAL_TYPE } from "../../store/migrations/036-approvals.js";
import { TaskRequestBaseSchema, type JsonObject, type Task } from "../types.js";
import { fatal, type ExecutionContext, type TaskExecutor } from "./executor.js";

export const ApprovalRequestSchema = TaskRequestBaseSchema.extend({
  type: z.literal(APPROVAL_TYPE),
  /** What the person is asked, beside the title: what is about to happen, what to check first. */
  message: z.string().max(2000).optional(),
});

/** Kept in the task's params by the decision (decide-approval.ts); never taken from a request. */
export const DecisionSchema = z.object({ approved: z.boolean(), by: z.string(), note: z.string().optional(), at: z.string() });

/**
 * Whether the task is an approval that waits for a person's decision now: pending, asked for
 * (take-approval-asks.ts marks it once its dependencies completed) and not decided.
 */
export function awaitsDecision(task: Task): boolean {
  const fields = task as { asked?: unknown; decision?: unknown };
  return task.type === APPROVAL_TYPE && task.status === "pending" && fields.asked !== undefined && fields.decision === undefined;
}

export class ApprovalExecutor implements TaskExecutor {
  readonly type = APPROVAL_TYPE;
  readonly requestSchema = ApprovalRequestSchema;
  /** Once decided, ahead of other work: someone is waiting for what comes after it. */
  readonly defaultPriority = 90;

  execute(task: Task, ctx: ExecutionContext): Promise<JsonObject> {
    const decision = DecisionSchema.safeParse((task as { decision?: unknown }).decision);
    // Only a decision releases an approval; without one it was released by something else.
    if (!decision.success) return Promise.reject(fatal("no_decision", "the approval ran without a decision: approve or reject it, then retry it"));
    const { approved, by, note, at } = decision.data;
    const said = `${approved ? "approved" : "rejected"} by ${by}${note ? `: ${note}` : ""}`;
    ctx.output({ stream: "system", data: `${said}\n` });
    const result: JsonObject = { approved, by, at, ...(note !== undefined ? { note } : {}) };
    return approved ? Promise.resolve(result) : Promise.reject(fatal("rejected", said, { result }));
  }
}
