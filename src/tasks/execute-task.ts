/**
 * One attempt of a task through its executor, as the TaskManager runs it (the seed's executeTask):
 * the stored fields checked again against the executor's schema, then the run, its output and
 * progress cleaned of the agent's secrets before the event log and the listeners see them.
 */
import type { Logger } from "../logger.js";
import type { Redactor } from "../security/redactor.js";
import { parseWith } from "../validation.js";
import { executeAttempt, type AttemptOutcome } from "./execute-attempt.js";
import type { ConversationKeeper, SpendCap } from "./executors/executor.js";
import type { ExecutorRegistry } from "./executors/registry.js";
import type { OutputLog } from "./output-log.js";
import { RunOutputCleaner } from "./run-output-cleaner.js";
import type { TaskLifecycleEvents } from "./task-events.js";
import type { Task } from "./types.js";
import { fillStepResults, hasStepReferences, type StepResultSource } from "../pipelines/step-results.js";

export interface ExecuteTaskContext {
  registry: ExecutorRegistry;
  redactor: Redactor;
  outputLog: OutputLog;
  logger: Logger;
  workerId: string;
  /** An executor that ignores its signal is let go after this long (see executeAttempt). */
  abandonAfterMs: number | undefined;
  /** The manager's "output" and "progress" events. */
  onOutput: (...args: TaskLifecycleEvents["output"]) => void;
  onProgress: (...args: TaskLifecycleEvents["progress"]) => void;
  /** What a run of `task` (of a type that reports a cost) may spend now: the daily budget's rest, or its drive's or its asker's (spend-budget.ts, holder-budget.ts). */
  spendCap?: (task: Task) => SpendCap | undefined;
  /** Where a pipeline step's references to earlier steps' results are read from (pipelines/step-results.ts). */
  stepResults?: StepResultSource;
  /** Conversations kept for follow-ups (ExecutionContext.conversations). */
  conversations?: ConversationKeeper;
}

/** `abort`: a signal from outside (cancel, shutdown), or the run's own controller (see AttemptOptions.controller). */
export async function executeTask(ctx: ExecuteTaskContext, stored: Task, abort: AbortSignal | AbortController, attempt: number): Promise<AttemptOutcome> {
  let task = stored;
  const executor = ctx.registry.get(task.type);
  if (!executor) {
    return { status: "failed", error: { kind: "fatal", code: "unknown_type", message: `worker ${ctx.workerId} has no executor for task type '${task.type}'` }, durationMs: 0 };
  }
  // A pipeline step's {{steps.<name>.result...}}: filled from the results as they are now, then checked as any field.
  if (ctx.stepResults && hasStepReferences(task)) {
    let filled: Awaited<ReturnType<typeof fillStepResults>>;
    try {
      filled = await fillStepResults(task, ctx.stepResults);
    } catch (error) {
      // The store away for a moment: tried again with backoff, like any run that could not start.
      const message = `reading the results of the steps it waits for failed: ${error instanceof Error ? error.message : String(error)}`;
      return { status: "failed", error: { kind: "retryable", code: "step_results_unavailable", message }, durationMs: 0 };
    }
    if ("error" in filled) return { status: "failed", error: filled.error, durationMs: 0 };
    task = filled.task;
  }
  // Stored fields are checked again: the task may come from an older version or another writer.
  const valid = parseWith(executor.requestSchema, task);
  if (!valid.ok) {
    const message = valid.errors.map((e) => `${e.field}: ${e.message}`).join("; ");
    return { status: "failed", error: { kind: "fatal", code: "invalid_task", message }, durationMs: 0 };
  }
  // The agent's secrets never leave a run: output, progress, result and error are cleaned here,
  // before the event log, the documents and the live streams see them.
  const cleaner = new RunOutputCleaner(ctx.redactor, {
    output: (chunk) => {
      ctx.outputLog.append({ task_id: task.id, kind: "output", stream: chunk.stream, data: chunk.data });
      ctx.onOutput(task, chunk);
    },
    progress: (event) => {
      ctx.outputLog.append({ task_id: task.id, kind: "progress", stream: null, data: JSON.stringify(event) });
      ctx.onProgress(task, event);
    },
  });
  const outcome = await executeAttempt(executor, { ...task, ...valid.value }, {
    ...(abort instanceof AbortController ? { controller: abort } : { signal: abort }),
    timeoutMs: task.timeoutMs,
    ...(ctx.abandonAfterMs !== undefined ? { abandonAfterMs: ctx.abandonAfterMs } : {}),
    attempt,
    ...spendCap(ctx, task, executor.reportsCost === true),
    ...(ctx.conversations ? { conversations: ctx.conversations } : {}),
    logger: ctx.logger.child({ taskId: task.id, type: task.type }),
    onOutput: (chunk) => cleaner.output(chunk),
    onProgress: (event) => cleaner.progress(event),
  });
  return cleaner.finish(outcome);
}

function spendCap(ctx: ExecuteTaskContext, task: Task, reportsCost: boolean): { spendCap?: SpendCap } {
  const cap = reportsCost ? ctx.spendCap?.(task) : undefined;
  return cap !== undefined ? { spendCap: cap } : {};
}
