/** What the CLI reads of /api/pipelines, shared by the pipeline commands. */
import { z } from "zod";
import { ApiTaskSchema, type AgentClient } from "../client.js";
import { EXIT } from "../exit-codes.js";

const ApiStepSchema = z.looseObject({ name: z.string(), after: z.array(z.string()), taskId: z.string(), status: z.string(), awaitingDecision: z.boolean().optional(), task: ApiTaskSchema.nullable() });
export const ApiPipelineSchema = z.looseObject({ id: z.string(), title: z.string(), status: z.string(), createdAt: z.string(), by: z.string().optional(), steps: z.array(ApiStepSchema) });
export type ApiPipeline = z.infer<typeof ApiPipelineSchema>;
export const OneSchema = z.object({ pipeline: ApiPipelineSchema });

/** Statuses a pipeline does not leave by itself (blocked: until someone retries or cancels). */
export const SETTLED = new Set(["completed", "failed", "cancelled", "blocked"]);
export const WAIT_POLL_MS = 500;

/** A step's status as the CLI shows it: an approval asked for and not decided says how to decide it. */
export function stepStatusText(step: z.infer<typeof ApiStepSchema>): string {
  return step.awaitingDecision ? `awaiting decision (ph-tasks approve|reject ${step.taskId})` : step.status;
}

export const pipelinePath = (id: string) => `/api/pipelines/${encodeURIComponent(id)}`;

export async function getPipeline(client: AgentClient, id: string): Promise<ApiPipeline> {
  return (await client.request("GET", pipelinePath(id), OneSchema)).pipeline;
}

/** As `ph-tasks run`: 0 completed, 130 cancelled, 1 failed or blocked. */
export function exitCodeOf(pipeline: ApiPipeline): number {
  if (pipeline.status === "completed") return EXIT.ok;
  if (pipeline.status === "cancelled") return EXIT.cancelled;
  return EXIT.taskFailed;
}
