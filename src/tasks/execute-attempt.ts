/**
 * One attempt of one task: arms the timeout, runs the executor, and turns what happened into an
 * outcome the manager (or the one-shot CLI) records. Shared so both paths classify alike.
 */
import type { Logger } from "../logger.js";
import type { JsonObject, JsonValue, OutputChunk, ProgressEvent, Task, TaskError } from "./types.js";
import { abortCauseOf, classifyError, TaskAbortReason, type TaskExecutor } from "./executors/executor.js";

export type AttemptOutcome =
  | { status: "completed"; result: JsonObject; durationMs: number }
  | { status: "failed"; result?: JsonValue; error: TaskError; durationMs: number }
  | { status: "cancelled"; result?: JsonValue; error: TaskError; durationMs: number };

export interface AttemptOptions {
  /** Aborted from outside: cancel (reason TaskAbortReason("cancel")) or shutdown. */
  signal?: AbortSignal;
  timeoutMs: number;
  attempt: number;
  logger: Logger;
  onOutput?: (chunk: OutputChunk) => void;
  onProgress?: (event: ProgressEvent) => void;
}

export async function executeAttempt(executor: TaskExecutor, task: Task, options: AttemptOptions): Promise<AttemptOutcome> {
  const started = performance.now();
  const controller = new AbortController();
  const forward = () => controller.abort(options.signal?.reason instanceof TaskAbortReason ? options.signal.reason : new TaskAbortReason("cancel"));
  if (options.signal?.aborted) forward();
  else options.signal?.addEventListener("abort", forward, { once: true });
  const timer = setTimeout(() => controller.abort(new TaskAbortReason("timeout")), options.timeoutMs);
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const result = await executor.execute(task, {
      signal: controller.signal,
      output: (chunk) => options.onOutput?.(chunk),
      progress: (event) => options.onProgress?.(event),
      logger: options.logger,
      attempt: options.attempt,
    });
    // An executor that ignored its signal and returned anyway still respects the cancel.
    const cause = abortCauseOf(controller.signal);
    if (cause === "cancel" || cause === "shutdown") {
      return { status: "cancelled", result, error: { kind: "fatal", code: cause === "cancel" ? "cancelled" : "shutdown", message: `task ${cause === "cancel" ? "cancelled" : "stopped by shutdown"}` }, durationMs: elapsed() };
    }
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
    options.signal?.removeEventListener("abort", forward);
  }
}
