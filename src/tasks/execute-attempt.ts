/**
 * One attempt of one task: arms the timeout, runs the executor, and turns what happened into an
 * outcome the manager (or the one-shot CLI) records. Shared so both paths classify alike.
 */
import type { Logger } from "../logger.js";
import type { JsonObject, JsonValue, OutputChunk, ProgressEvent, Task, TaskError } from "./types.js";
import { abortCauseOf, classifyError, fatal, TaskAbortReason, type ConversationKeeper, type ExecutionContext, type SpendCap, type TaskExecutor } from "./executors/executor.js";

export type AttemptOutcome =
  | { status: "completed"; result: JsonObject; durationMs: number }
  | { status: "failed"; result?: JsonValue; error: TaskError; durationMs: number }
  | { status: "cancelled"; result?: JsonValue; error: TaskError; durationMs: number };

/** A result bigger than this (as JSON) is refused: it would be stored, listed and synced. */
export const MAX_RESULT_BYTES = 4 * 1024 * 1024;
/** Default of AttemptOptions.abandonAfterMs. */
export const DEFAULT_ABANDON_AFTER_MS = 30_000;

export interface AttemptOptions {
  /** Aborted from outside: cancel (reason TaskAbortReason("cancel")) or shutdown. */
  signal?: AbortSignal;
  /**
   * Instead of `signal`: the run's own controller, aborted from outside with a TaskAbortReason
   * (cancel, shutdown) and by the attempt on timeout. The manager passes the one it holds for the
   * run, which spares every attempt a second controller and the listener that links the two.
   */
  controller?: AbortController;
  timeoutMs: number;
  /**
   * An executor still running this long after its signal was aborted (timeout, cancel, shutdown)
   * is abandoned: the attempt ends without it, so a plugin that ignores its signal cannot hold a
   * slot and a lease for ever. Longer than the executors' own kill grace.
   */
  abandonAfterMs?: number;
  attempt: number;
  /** What the run may spend under the daily budget or its drive's (ExecutionContext.spendCapUsd, spendCapFrom). */
  spendCap?: SpendCap;
  /** ExecutionContext.conversations. */
  conversations?: ConversationKeeper;
  logger: Logger;
  onOutput?: (chunk: OutputChunk) => void;
  onProgress?: (event: ProgressEvent) => void;
}

export async function executeAttempt(executor: TaskExecutor, task: Task, options: AttemptOptions): Promise<AttemptOutcome> {
  const started = performance.now();
  const { controller, unlink } = attemptController(options);
  const timer = setTimeout(abortOnTimeout, options.timeoutMs, controller);
  const elapsed = () => Math.round(performance.now() - started);
  try {
    // (then: an executor that throws instead of rejecting is caught like one that rejects)
    const context: ExecutionContext = { signal: controller.signal, output: options.onOutput ?? ignore, progress: options.onProgress ?? ignore, logger: options.logger, attempt: options.attempt, ...(options.spendCap ? { spendCapUsd: options.spendCap.usd, spendCapFrom: options.spendCap.from, ...(options.spendCap.setting ? { spendCapSetting: options.spendCap.setting } : {}) } : {}), ...(options.conversations ? { conversations: options.conversations } : {}) };
    const work = Promise.resolve().then(() => executor.execute(task, context));
    const result = await abandonedAfter(work, controller.signal, options.abandonAfterMs ?? DEFAULT_ABANDON_AFTER_MS, options.logger);
    // An executor that ignored its signal and returned anyway still respects the cancel.
    const cause = abortCauseOf(controller.signal);
    if (cause === "cancel" || cause === "shutdown") {
      return { status: "cancelled", result, error: { kind: "fatal", code: cause === "cancel" ? "cancelled" : "shutdown", message: `task ${cause === "cancel" ? "cancelled" : "stopped by shutdown"}` }, durationMs: elapsed() };
    }
    const problem = resultProblem(result);
    if (problem) return { status: "failed", error: { kind: "fatal", code: problem.code, message: problem.message }, durationMs: elapsed() };
    return { status: "completed", result, durationMs: elapsed() };
  } catch (thrown) {
    const error = classifyError(thrown);
    const cause = abortCauseOf(controller.signal);
    const base = { error: error.toTaskError(), durationMs: elapsed(), ...(error.result !== undefined ? { result: error.result } : {}) };
    if (cause === "cancel" || cause === "shutdown") {
      // Whatever the executor threw on its way out, the reason it stopped is ours.
      return { ...base, status: "cancelled", error: { kind: "fatal", code: cause === "cancel" ? "cancelled" : "shutdown", message: error.message } };
    }
    if (cause === "timeout" && error.code !== "timeout") {
      return { ...base, status: "failed", error: { kind: "retryable", code: "timeout", message: `timed out after ${options.timeoutMs} ms (${error.message})` } };
    }
    return { status: "failed", ...base };
  } finally {
    clearTimeout(timer);
    unlink?.();
  }
}

const ignore = () => undefined;

function abortOnTimeout(controller: AbortController): void {
  controller.abort(new TaskAbortReason("timeout"));
}

/** The run's controller: the one given, or a new one that follows `signal` (unlink when done). */
function attemptController(options: AttemptOptions): { controller: AbortController; unlink?: () => void } {
  if (options.controller) return { controller: options.controller };
  const controller = new AbortController();
  const outside = options.signal;
  if (!outside) return { controller };
  const forward = () => controller.abort(outside.reason instanceof TaskAbortReason ? outside.reason : new TaskAbortReason("cancel"));
  if (outside.aborted) {
    forward();
    return { controller };
  }
  outside.addEventListener("abort", forward, { once: true });
  return { controller, unlink: () => outside.removeEventListener("abort", forward) };
}

/**
 * The executor's promise — or, once the signal has been aborted for `ms` without it settling, a
 * rejection saying so (what the executor does later is logged and otherwise ignored).
 */
function abandonedAfter<T>(work: Promise<T>, signal: AbortSignal, ms: number, logger: Logger): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let abandoned = false;
    const onAbort = () => {
      timer = setTimeout(() => {
        abandoned = true;
        reject(fatal("executor_unresponsive", `the executor did not stop within ${ms} ms of being told to; its work is abandoned`));
      }, ms);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    const settle = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    };
    work.then(
      (value) => {
        settle();
        if (abandoned) logger.warn("an abandoned executor finished after all; its result is ignored");
        resolve(value);
      },
      (error: unknown) => {
        settle();
        if (abandoned) logger.warn({ err: error }, "an abandoned executor failed after all; ignored");
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** Why an executor's result cannot be stored: it must be a JSON object of reasonable size. */
function resultProblem(result: unknown): { code: string; message: string } | undefined {
  if (typeof result !== "object" || result === null || Array.isArray(result)) {
    return { code: "invalid_result", message: `the executor returned ${Array.isArray(result) ? "an array" : result === null ? "null" : typeof result}, not a JSON object` };
  }
  let json: string;
  try {
    json = JSON.stringify(result);
  } catch (error) {
    return { code: "invalid_result", message: `the executor's result is not JSON: ${(error as Error).message}` };
  }
  const bytes = Buffer.byteLength(json);
  if (bytes > MAX_RESULT_BYTES) return { code: "result_too_large", message: `the executor's result is ${bytes} bytes as JSON; at most ${MAX_RESULT_BYTES} are kept` };
  return undefined;
}
