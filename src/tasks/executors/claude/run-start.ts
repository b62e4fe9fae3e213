/**
 * What both Claude executors do before `claude` starts: build the prompt from the task and its
 * source document, wait for the requests-per-minute budget, and name the run's own home directory.
 */
import { randomUUID } from "node:crypto";
import path from "node:path";
import type { TaskSource } from "../../types.js";
import { abortCauseOf, fatal, type ExecutionContext } from "../executor.js";
import type { DocumentContext, DocumentContextProvider } from "./document-context.js";
import { defaultPromptTemplate, type PromptTemplate } from "./prompt-template.js";
import type { StartsPerMinute } from "./rate-limiter.js";

export interface PromptSources {
  documentContext?: DocumentContextProvider | undefined;
  promptTemplate?: PromptTemplate | undefined;
}

/** The prompt: the source document's context (when there is one), then the task; and that context. */
export async function buildTaskPrompt(
  sources: PromptSources,
  task: { title: string; instructions: string; prompt: string; source?: TaskSource | undefined },
): Promise<{ prompt: string; document: DocumentContext | undefined }> {
  const document = task.source && sources.documentContext ? await sources.documentContext.getDocumentContext(task.source) : undefined;
  return { prompt: (sources.promptTemplate ?? defaultPromptTemplate)({ title: task.title, instructions: task.instructions, prompt: task.prompt, document }), document };
}

/** Waits for a start within the budget (reported as progress); throws if the run was stopped meanwhile. */
export async function awaitStartBudget(starts: StartsPerMinute, ctx: ExecutionContext): Promise<void> {
  await starts
    .acquire(ctx.signal, (ms) => ctx.progress({ kind: "waiting", message: `waiting ${Math.ceil(ms / 1000)} s for the Claude requests-per-minute budget` }))
    .catch(() => undefined);
  if (ctx.signal.aborted) throw fatal(abortCauseOf(ctx.signal) === "timeout" ? "timeout" : "cancelled", "stopped before claude started");
}

/** A fresh HOME for one attempt (removed after the run). */
export function runHomePath(homesDir: string, taskId: string, attempt: number): string {
  return path.join(homesDir, `${taskId}-${attempt}-${randomUUID().slice(0, 8)}`);
}
