/**
 * An executor that misbehaves — a plugin that ignores its signal and never returns, throws instead
 * of rejecting, or returns what cannot be stored — ends its attempt with a clear error, and the
 * worker goes on: the slot is freed, the next task runs.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { silentLogger } from "../src/logger.js";
import { TaskStore } from "../src/store/task-store.js";
import { TaskAbortReason, type TaskExecutor } from "../src/tasks/executors/executor.js";
import { ExecutorRegistry } from "../src/tasks/executors/registry.js";
import { executeAttempt, MAX_RESULT_BYTES } from "../src/tasks/execute-attempt.js";
import { newTask } from "../src/tasks/new-task.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import { TaskRequestBaseSchema, type JsonObject, type Task } from "../src/tasks/types.js";
import { testManager } from "./support/manager.js";
import { finalStatus } from "./support/scripted-executor.js";

/** A task type whose behaviour is the test's: `behave` gets the signal. */
function misbehaving(behave: (signal: AbortSignal) => unknown): TaskExecutor {
  return {
    type: "odd",
    requestSchema: TaskRequestBaseSchema.extend({ type: z.literal("odd") }),
    execute: (_task, ctx) => behave(ctx.signal) as Promise<JsonObject>,
  };
}

const never = () => new Promise(() => undefined);

async function attempt(behave: (signal: AbortSignal) => unknown, options: { timeoutMs?: number; signal?: AbortSignal } = {}) {
  const executor = misbehaving(behave);
  const task: Task = newTask({ type: "odd", title: "odd" } as never, executor, { maxAttempts: 1, timeoutMs: options.timeoutMs ?? 10_000 });
  const started = Date.now();
  const outcome = await executeAttempt(executor, task, { timeoutMs: task.timeoutMs, attempt: 1, logger: silentLogger(), abandonAfterMs: 300, ...(options.signal ? { signal: options.signal } : {}) });
  return { outcome, ms: Date.now() - started };
}

describe("a misbehaving executor", () => {
  it("that ignores its signal and never returns: abandoned after the timeout, as a timeout", async () => {
    const { outcome, ms } = await attempt(never, { timeoutMs: 200 });
    expect(outcome).toMatchObject({ status: "failed", error: { kind: "retryable", code: "timeout" } });
    expect(outcome.status !== "completed" && outcome.error.message).toContain("did not stop within 300 ms");
    expect(ms).toBeLessThan(5000);
  });

  it("that ignores a cancel: abandoned, cancelled", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new TaskAbortReason("cancel")), 100);
    const { outcome } = await attempt(never, { signal: controller.signal });
    expect(outcome).toMatchObject({ status: "cancelled", error: { code: "cancelled" } });
  });

  it("that throws instead of rejecting, or returns what cannot be stored: failed, saying what", async () => {
    const thrown = await attempt(() => { throw new Error("boom"); });
    expect(thrown.outcome).toMatchObject({ status: "failed", error: { kind: "fatal", code: "executor_error", message: "executor threw: boom" } });
    for (const [value, message] of [
      ["done", "the executor returned string, not a JSON object"],
      [undefined, "the executor returned undefined, not a JSON object"],
      [[1, 2], "the executor returned an array, not a JSON object"],
      [{ n: 10n }, "the executor's result is not JSON: Do not know how to serialize a BigInt"],
    ] as const) {
      const { outcome } = await attempt(() => Promise.resolve(value));
      expect(outcome).toMatchObject({ status: "failed", error: { kind: "fatal", code: "invalid_result", message } });
    }
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect((await attempt(() => Promise.resolve(circular))).outcome).toMatchObject({ status: "failed", error: { code: "invalid_result" } });
    const huge = await attempt(() => Promise.resolve({ text: "x".repeat(MAX_RESULT_BYTES) }));
    expect(huge.outcome).toMatchObject({ status: "failed", error: { code: "result_too_large" } });
  });
});

describe("a worker with a misbehaving executor", () => {
  let store: TaskStore;
  let manager: TaskManager;
  beforeEach(async () => {
    store = await TaskStore.open({});
    let calls = 0;
    // The first run hangs for ever, ignoring its signal; later ones finish at once.
    const executor = misbehaving(() => (++calls === 1 ? never() : Promise.resolve({ ok: true })));
    manager = testManager(store, { maxConcurrent: 1, abandonAfterMs: 300 }, new ExecutorRegistry().register(executor));
    await manager.start();
  });
  afterEach(async () => {
    await manager.stop(0);
    await store.close();
  });

  it("frees the slot: the hung run times out, is retried, and the next task runs", async () => {
    const { task: hung } = await manager.enqueueTask({ type: "odd", title: "hangs once", timeoutMs: 200, maxAttempts: 2 });
    const { task: next } = await manager.enqueueTask({ type: "odd", title: "next" });
    expect((await finalStatus(manager, next.id)).status).toBe("completed");
    const done = await finalStatus(manager, hung.id);
    expect(done).toMatchObject({ status: "completed", attempts: 2 });
  });
});
