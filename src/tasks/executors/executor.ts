/**
 * The executor plug-in point: one interface every task type implements. The manager, the CLI and
 * the HTTP API only ever talk to executors through it (see registry.ts).
 */
import type { z } from "zod";
import type { Logger } from "../../logger.js";
import type { JsonObject, OutputChunk, ProgressEvent, Task, TaskError } from "../types.js";
import type { FieldError } from "../../validation.js";

/** Why a task's signal was aborted; executors read it to report timedOut / cancelled. */
export type AbortCause = "cancel" | "timeout" | "shutdown";

export class TaskAbortReason extends Error {
  constructor(readonly abortCause: AbortCause) {
    super(`task ${abortCause === "cancel" ? "cancelled" : abortCause === "timeout" ? "timed out" : "stopped by shutdown"}`);
    this.name = "TaskAbortReason";
  }
}

/** The cause of an aborted signal, or undefined when it was not aborted by us. */
export function abortCauseOf(signal: AbortSignal): AbortCause | undefined {
  if (!signal.aborted) return undefined;
  return signal.reason instanceof TaskAbortReason ? signal.reason.abortCause : "cancel";
}

/** What a run may spend under a budget, and whose (ExecutionContext.spendCapUsd, spendCapFrom, spendCapSetting). */
export interface SpendCap {
  usd: number;
  from: "daily" | "drive" | "person";
  /** The setting that gave that budget (a named drive's is TASK_DRIVE_BUDGETS_USD_PER_DAY); absent: from's usual one. */
  setting?: string;
}

export interface ExecutionContext {
  /** Aborted on cancel, timeout or shutdown; the reason is a TaskAbortReason. */
  signal: AbortSignal;
  /** Output as it arrives, in order. */
  output(chunk: OutputChunk): void;
  /** Steps the executor wants people to see (tool uses, phases). */
  progress(event: ProgressEvent): void;
  logger: Logger;
  /** 1 for the first run, 2 for the first retry, ... */
  attempt: number;
  /**
   * For a type that reports a cost, with a daily budget set (TASK_BUDGET_USD_PER_DAY): what is left
   * of it as this run starts, in US dollars. The run should stop there (spend-budget.ts).
   */
  spendCapUsd?: number;
  /**
   * Whose budget spendCapUsd is what is left of: the daily budget of every run ("daily",
   * TASK_BUDGET_USD_PER_DAY), or the one of the drive whose writers asked for this task ("drive",
   * TASK_BUDGET_USD_PER_DRIVE_PER_DAY) when that is the tighter. Absent: "daily".
   */
  spendCapFrom?: SpendCap["from"];
  /** The setting that gave that budget, for a run's messages (a named drive's: TASK_DRIVE_BUDGETS_USD_PER_DAY). */
  spendCapSetting?: string;
  /**
   * Where a run keeps the conversation it had, so that a later task may continue it, and finds the
   * one its task continues (a Claude task's continueFrom). Absent outside the task store (`ph-tasks run`).
   */
  conversations?: ConversationKeeper;
}

/** A conversation as the model's CLI wrote it: its session id and its transcript. */
export interface KeptConversation {
  sessionId: string;
  transcript: Buffer;
}

/** Conversations kept per task across runs and workers (store/conversation-store.ts). */
export interface ConversationKeeper {
  /** Keeps a run's conversation as its task's; false when it is too long to keep. */
  save(taskId: string, attempt: number, conversation: KeptConversation): Promise<boolean>;
  /** The conversation a task's last run left, if it was kept. */
  load(taskId: string): Promise<KeptConversation | undefined>;
}

/**
 * A failed run. `kind` decides what the manager does next: "retryable" runs again after a backoff
 * (or after retryAfterMs), "fatal" fails the task at once. `result` keeps what the run produced
 * (exit code, output) so a failure is never lost information.
 */
export class TaskExecutionError extends Error {
  readonly kind: TaskError["kind"];
  readonly code: string;
  readonly retryAfterMs: number | undefined;
  readonly result: JsonObject | undefined;

  constructor(options: {
    kind: TaskError["kind"];
    code: string;
    message: string;
    retryAfterMs?: number;
    result?: JsonObject;
    cause?: unknown;
  }) {
    super(options.message, { cause: options.cause });
    this.name = "TaskExecutionError";
    this.kind = options.kind;
    this.code = options.code;
    this.retryAfterMs = options.retryAfterMs;
    this.result = options.result;
  }

  toTaskError(): TaskError {
    return {
      kind: this.kind,
      code: this.code,
      message: this.message,
      ...(this.retryAfterMs !== undefined ? { retryAfterMs: this.retryAfterMs } : {}),
    };
  }
}

export function fatal(code: string, message: string, extra: { result?: JsonObject; cause?: unknown } = {}): TaskExecutionError {
  return new TaskExecutionError({ kind: "fatal", code, message, ...extra });
}

export function retryable(
  code: string,
  message: string,
  extra: { result?: JsonObject; cause?: unknown; retryAfterMs?: number } = {},
): TaskExecutionError {
  return new TaskExecutionError({ kind: "retryable", code, message, ...extra });
}

/** Turns anything thrown by an executor into a classified error. Unknown errors are fatal: a bug
 * retried three times is still a bug, and retrying it could repeat side effects. */
export function classifyError(error: unknown): TaskExecutionError {
  if (error instanceof TaskExecutionError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return fatal("executor_error", `executor threw: ${message}`, { cause: error });
}

export interface TaskExecutor<T extends Task = Task> {
  /** The task type this executor runs, e.g. "cli". */
  readonly type: string;
  /** Validates a task request of this type (base fields + type fields) and fills defaults. */
  readonly requestSchema: z.ZodType<Record<string, unknown>>;
  /** Default priority of this type (0–100) when a request sets none. */
  readonly defaultPriority?: number;
  /**
   * Its runs cost money and say how much (`costUsd` in the result, US dollars): the spend counts
   * them, and a daily budget holds this type's tasks once spent (tasks/spend-budget.ts).
   */
  readonly reportsCost?: boolean;
  /**
   * Runs the task. Resolves with the result on success; throws a TaskExecutionError (kind +
   * code) on failure. Must stop promptly when ctx.signal aborts.
   */
  execute(task: T, ctx: ExecutionContext): Promise<JsonObject>;
  /**
   * Checks a task against this agent's policy when it is accepted (enqueue), so that a request
   * that can never run is refused at once, naming the field, instead of failing when it runs. Only
   * what does not depend on the moment: the allow-lists and the roots, not whether a directory
   * exists yet (an earlier task may make it). The run checks everything again. No problems: accepted.
   */
  admit?(task: T): Promise<FieldError[]>;
}
