/**
 * A follow-up asked for by the task it continues (POST /api/tasks/:id/follow-up, `ph-tasks
 * follow-up`, the dashboard's form): a request of the same type that carries the earlier task's
 * own fields — its project, model, turn and spend limits, tools, MCP server, tags, time limit —
 * with the new prompt, and names it in continueFrom. What the body gives replaces what is
 * carried; the whole request is then checked as any other (task-request.ts, follow-ups.ts).
 */
import { z } from "zod";
import type { ExecutorRegistry } from "./executors/registry.js";
import { splitTaskParams, type Task } from "./types.js";

/** What a follow-up request may say; anything not named here comes from the earlier task. */
export const FollowUpBodySchema = z.strictObject({
  prompt: z.string().trim().min(1, "must not be empty"),
  title: z.string().optional(),
  instructions: z.string().optional(),
  model: z.string().optional(),
  maxTurns: z.unknown().optional(),
  maxBudgetUsd: z.unknown().optional(),
  priority: z.unknown().optional(),
  idempotencyKey: z.string().optional(),
}, {
  error: (issue) =>
    issue.code === "unrecognized_keys"
      ? `has no field ${issue.keys.map((k) => `"${k}"`).join(", ")}: a follow-up takes prompt, title, instructions, model, maxTurns, maxBudgetUsd, priority and idempotencyKey; the rest comes from the task it continues`
      : undefined,
});
export type FollowUpBody = z.infer<typeof FollowUpBodySchema>;

/** The earlier task's fields a follow-up does not carry: its own prompt, and when and after what it ran. */
const NOT_CARRIED = new Set(["prompt", "continueFrom", "dependsOn", "onDependencyFailure", "runAt", "startBy", "idempotencyKey", "source", "type", "title", "instructions", "runtime"]);

/** Whether tasks of this type can continue a conversation (their request has continueFrom: the Claude types, a plugin's). */
export function takesFollowUps(registry: ExecutorRegistry, type: string): boolean {
  const schema = registry.get(type)?.requestSchema;
  return schema instanceof z.ZodObject && "continueFrom" in schema.shape;
}

export function followUpRequest(earlier: Task, body: FollowUpBody): Record<string, unknown> {
  const carried = Object.fromEntries(Object.entries(splitTaskParams(earlier)).filter(([field]) => !NOT_CARRIED.has(field)));
  const given = Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined));
  return {
    ...carried,
    type: earlier.type,
    title: `Follow-up: ${earlier.title}`.slice(0, 200),
    priority: earlier.priority,
    maxAttempts: earlier.maxAttempts,
    timeoutMs: earlier.timeoutMs,
    ...given,
    continueFrom: earlier.id,
  };
}
