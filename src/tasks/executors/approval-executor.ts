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
import { PersonNameSchema } from "../../security/identities.js";
import type { FieldError } from "../../validation.js";
import { fatal, type ExecutionContext, type TaskExecutor } from "./executor.js";

export const ApprovalRequestSchema = TaskRequestBaseSchema.extend({
  type: z.literal(APPROVAL_TYPE),
  /** What the person is asked, beside the title: what is about to happen, what to check first. */
  message: z.string().max(2000).optional(),
  /**
   * Who may decide it, by the names API_USERS and TASK_AUTHORIZED_WRITERS give (security/
   * identities.ts). Absent: anyone who may act on the task (the API token, its document's writers).
   */
  approvers: z.array(PersonNameSchema).min(1, "must name at least one person (or leave approvers out)").max(20, "may name at most 20 people").optional(),
  /** How many of the approvers must approve (default 1: any one); one rejection rejects it. */
  required: z.int().min(1, "must be at least 1").max(20, "may be at most 20").optional(),
}).superRefine((request, ctx) => {
  const required = request.required ?? 1;
  // Only names this agent can prove are counted as different people.
  if (required > 1 && (request.approvers === undefined || new Set(request.approvers).size < required)) {
    ctx.addIssue({ code: "custom", path: ["required"], input: required, message: `${required} approvals need approvers naming at least ${required} different people (only a name a token or key proves counts as one person)` });
  }
});

/** One person's approval counted toward an approval that needs several (params.approvals). */
export const CountedApprovalSchema = z.object({ by: z.string(), note: z.string().optional(), at: z.string() });

/** The approvals counted so far toward one that needs several (`required`). */
export function countedApprovals(task: Task): z.infer<typeof CountedApprovalSchema>[] {
  const parsed = z.array(CountedApprovalSchema).safeParse((task as { approvals?: unknown }).approvals);
  return parsed.success ? parsed.data : [];
}

/** Its approvers whose approval is not counted yet: those it still waits for (none when anyone may decide). */
export function awaitedApprovers(task: Task): string[] {
  const counted = countedApprovals(task);
  return (approversOf(task) ?? []).filter((name) => !counted.some((approval) => approval.by === name));
}

/** How many approvals it needs. */
export function requiredApprovals(task: Task): number {
  const required = (task as { required?: unknown }).required;
  return typeof required === "number" ? required : 1;
}

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

/** The names an approval task may be decided by (its `approvers`), or undefined: anyone who may act on it. */
export function approversOf(task: Task): string[] | undefined {
  const approvers = (task as { approvers?: unknown }).approvers;
  return Array.isArray(approvers) ? approvers.filter((name): name is string => typeof name === "string") : undefined;
}

export class ApprovalExecutor implements TaskExecutor {
  readonly type = APPROVAL_TYPE;
  readonly requestSchema = ApprovalRequestSchema;
  /** Once decided, ahead of other work: someone is waiting for what comes after it. */
  readonly defaultPriority = 90;

  /**
   * `knownNames`: the people this agent can tell apart (API_USERS, named TASK_AUTHORIZED_WRITERS
   * keys); an approval naming someone else could never be decided, and is refused when asked for.
   * Undefined: not checked.
   */
  constructor(private readonly knownNames?: readonly string[]) {}

  admit(task: Task): Promise<FieldError[]> {
    const known = this.knownNames;
    const approvers = (task as { approvers?: unknown }).approvers;
    if (known === undefined || !Array.isArray(approvers)) return Promise.resolve([]);
    const names = known.length > 0 ? `the names it knows: ${known.join(", ")}` : "it knows no one by name: give people named tokens (API_USERS) or name app keys (TASK_AUTHORIZED_WRITERS=alice=did:key:…)";
    return Promise.resolve(approvers.flatMap((name, i) => (typeof name === "string" && !known.includes(name) ? [{ field: `approvers.${i}`, value: JSON.stringify(name), message: `is not a name this agent knows (${names}): no one could decide it` }] : [])));
  }

  execute(task: Task, ctx: ExecutionContext): Promise<JsonObject> {
    const decision = DecisionSchema.safeParse((task as { decision?: unknown }).decision);
    // Only a decision releases an approval; without one it was released by something else.
    if (!decision.success) return Promise.reject(fatal("no_decision", "the approval ran without a decision: approve or reject it, then retry it"));
    const { approved, by, note, at } = decision.data;
    const said = `${approved ? "approved" : "rejected"} by ${by}${note ? `: ${note}` : ""}`;
    ctx.output({ stream: "system", data: `${said}\n` });
    const counted = countedApprovals(task);
    const result: JsonObject = { approved, by, at, ...(note !== undefined ? { note } : {}), ...(counted.length > 0 ? { approvals: counted } : {}) };
    return approved ? Promise.resolve(result) : Promise.reject(fatal("rejected", said, { result }));
  }
}
