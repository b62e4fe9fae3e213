/**
 * What a Claude Code run may spend, on the real claude binary against the Messages-API stand-in
 * (a call of a million input tokens costs $3 as claude prices claude-sonnet-4-5): a task's
 * maxBudgetUsd stops claude there and fails the task for good; CLAUDE_MAX_BUDGET_USD is the
 * ceiling a task may only lower; what is left of the daily budget caps a run and stopping there is
 * retried; a cheap run under its cap completes. And through a task manager with
 * TASK_BUDGET_USD_PER_DAY: the run's cost is recorded, and once it is spent Claude tasks wait.
 */
import { mkdtempSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { TaskStore } from "../src/store/task-store.js";
import { SpendStore } from "../src/store/spend-store.js";
import { ExecutorRegistry } from "../src/tasks/executors/registry.js";
import { parseTaskRequest } from "../src/tasks/task-request.js";
import { spendReport } from "../src/tasks/spend-report.js";
import { startStandIn, type StandIn } from "./support/anthropic-stand-in.js";
import { claudeCodeHarness } from "./support/claude-code-harness.js";
import { testManager } from "./support/manager.js";
import { waitFor } from "./support/process.js";

const root = realpathSync(mkdtempSync(path.join(tmpdir(), "ph-claude-budget-")));

describe("what a Claude Code run may spend", () => {
  let standIn: StandIn;
  beforeAll(async () => {
    standIn = await startStandIn();
  });
  afterAll(() => standIn.close());
  beforeEach(() => standIn.reset());
  const { executor, run } = claudeCodeHarness(() => standIn, root);
  // (each its own script: claude stops before the second reply, which must not serve the next run)
  const dear = () => {
    standIn.reset();
    standIn.enqueue({ kind: "tool_use", name: "Bash", input: { command: "true" }, inputTokens: 1_000_000 }, { kind: "text", text: "never asked for" });
  };
  const errorOf = (outcome: Awaited<ReturnType<typeof run>>["outcome"]) => (outcome.status === "completed" ? undefined : outcome.error);

  it("a task's maxBudgetUsd stops claude after the call that passes it: failed for good, with what it cost", async () => {
    dear();
    const { outcome, result, requests } = await run({ prompt: "spend", maxBudgetUsd: 0.5 });
    expect(errorOf(outcome)).toEqual({ kind: "fatal", code: "max_budget", message: "claude stopped at its budget ($0.50, maxBudgetUsd) before finishing" });
    expect(result).toMatchObject({ subtype: "error_max_budget_usd", maxBudgetUsd: 0.5 });
    expect(result.totalCostUsd).toBeGreaterThan(3);
    expect(requests).toHaveLength(1); // the second reply was never asked for
  });

  it("CLAUDE_MAX_BUDGET_USD is the ceiling: a task may lower it, not raise it", async () => {
    const exec = executor({ defaultMaxBudgetUsd: 0.25 });
    dear();
    const raised = await run({ prompt: "spend", maxBudgetUsd: 100 }, { exec });
    expect(errorOf(raised.outcome)).toEqual({ kind: "fatal", code: "max_budget", message: "claude stopped at its budget ($0.25, CLAUDE_MAX_BUDGET_USD) before finishing" });
    expect(raised.result.maxBudgetUsd).toBe(0.25);
    dear();
    const lowered = await run({ prompt: "spend", maxBudgetUsd: 0.1 }, { exec });
    expect(errorOf(lowered.outcome)?.message).toBe("claude stopped at its budget ($0.10, maxBudgetUsd) before finishing");
    expect(lowered.result.maxBudgetUsd).toBe(0.1);
  });

  it("what is left of the daily budget caps a run, and stopping there is retried; with nothing left claude is not started", async () => {
    dear();
    const capped = await run({ prompt: "spend", maxBudgetUsd: 1 }, { spendCapUsd: 0.3 });
    expect(errorOf(capped.outcome)).toEqual({ kind: "retryable", code: "over_budget", message: "claude stopped at what was left of the daily budget ($0.30, TASK_BUDGET_USD_PER_DAY) before finishing" });
    expect(capped.result.maxBudgetUsd).toBe(0.3);
    const none = await run({ prompt: "spend" }, { spendCapUsd: 0 });
    expect(errorOf(none.outcome)).toMatchObject({ kind: "retryable", code: "over_budget", retryAfterMs: 60_000 });
    expect(none.requests).toHaveLength(0);
    // Nothing left of its drive's budget (TASK_BUDGET_USD_PER_DRIVE_PER_DAY): not started either, naming that one.
    const noDrive = await run({ prompt: "spend" }, { spendCapUsd: 0, spendCapFrom: "drive" });
    expect(errorOf(noDrive.outcome)).toMatchObject({ kind: "retryable", code: "over_budget", message: "its drive's daily budget (TASK_BUDGET_USD_PER_DRIVE_PER_DAY) was spent as this run started; not started" });
    expect(noDrive.requests).toHaveLength(0);
    // A drive named in TASK_DRIVE_BUDGETS_USD_PER_DAY: its stop names that setting, not the default's.
    dear();
    const named = await run({ prompt: "spend", maxBudgetUsd: 1 }, { spendCapUsd: 0.3, spendCapFrom: "drive", spendCapSetting: "TASK_DRIVE_BUDGETS_USD_PER_DAY" });
    expect(errorOf(named.outcome)).toEqual({ kind: "retryable", code: "over_budget", message: "claude stopped at what was left of its drive's daily budget ($0.30, TASK_DRIVE_BUDGETS_USD_PER_DAY) before finishing" });
  });

  it("a cheap run under its cap completes and says what it cost", async () => {
    standIn.enqueue({ kind: "text", text: "cheap" });
    const { outcome, result } = await run({ prompt: "hello", maxBudgetUsd: 0.5 });
    expect(outcome.status).toBe("completed");
    expect(result).toMatchObject({ text: "cheap", maxBudgetUsd: 0.5 });
    expect(result.totalCostUsd).toBeGreaterThan(0);
    expect(result.totalCostUsd).toBeLessThan(0.01);
  });

  it("maxBudgetUsd that is no amount is refused, naming the field", () => {
    const registry = new ExecutorRegistry().register(executor());
    for (const [value, message] of [[0, "must be more than 0"], [-1, "must be more than 0"], [20_000, "must be at most 10000"]] as const) {
      const parsed = parseTaskRequest({ type: "claude-code", title: "t", prompt: "p", maxBudgetUsd: value }, registry);
      expect(parsed.ok ? [] : parsed.errors).toEqual([expect.objectContaining({ field: "maxBudgetUsd", message })]);
    }
    const text = parseTaskRequest({ type: "claude-code", title: "t", prompt: "p", maxBudgetUsd: "5" }, registry);
    expect(text.ok ? [] : text.errors.map((e) => e.field)).toEqual(["maxBudgetUsd"]);
  });

  it("a run cancelled or timed out after a dear call counts what claude wrote it had cost", async () => {
    const store = await TaskStore.open({});
    const manager = testManager(store, {}, new ExecutorRegistry().register(executor()));
    try {
      await manager.start();
      for (const stop of ["cancel", "timeout"] as const) {
        standIn.reset();
        standIn.enqueue({ kind: "tool_use", name: "Bash", input: { command: "true" }, inputTokens: 1_000_000 }, { kind: "hang" });
        const before = standIn.requests.length;
        const { task } = await manager.enqueueTask({ type: "claude-code", title: stop, prompt: "spend, then wait", allowedTools: ["Bash"], maxAttempts: 1, ...(stop === "timeout" ? { timeoutMs: 15_000 } : {}) });
        await waitFor(() => standIn.requests.length - before >= 2 || undefined, 30_000, "claude's second call");
        if (stop === "cancel") await manager.cancelTask(task.id);
        const end = await waitFor(async () => {
          const now = await manager.getTask(task.id);
          return now && ["failed", "cancelled"].includes(now.status) ? now : undefined;
        }, 30_000, `the ${stop} to end the run`);
        expect(end.error).toMatchObject({ code: stop === "cancel" ? "cancelled" : "timeout" });
        expect((end.result as { totalCostUsd?: number }).totalCostUsd).toBeCloseTo(3.00018, 4);
      }
      const report = await spendReport(new SpendStore(store.db), { perDay: 1 }, 1);
      expect(report.last24h.runs).toBe(2);
      expect(report.last24h.usd).toBeCloseTo(6.00036, 3);
    } finally {
      await manager.stop(0);
      await store.close();
    }
  });

  it("through a task manager with a daily budget: the run's cost is recorded, and once spent Claude tasks wait saying why", async () => {
    const store = await TaskStore.open({});
    const manager = testManager(store, { budgetUsdPerDay: 1, retry: { baseMs: 100, maxMs: 200 } }, new ExecutorRegistry().register(executor()));
    const before = standIn.requests.length;
    try {
      await manager.start();
      dear();
      const { task } = await manager.enqueueTask({ type: "claude-code", title: "dear", prompt: "spend" });
      // Capped at the dollar left, claude stops after its $3 call: retried later, held by the spent budget meanwhile.
      const retried = await waitFor(async () => {
        const now = await manager.getTask(task.id);
        return now?.status === "pending" && now.attempts === 1 ? now : undefined;
      }, 60_000, "the run to stop at the daily budget");
      expect(retried.error).toMatchObject({ code: "over_budget" });
      const report = await spendReport(new SpendStore(store.db), { perDay: 1 }, 1);
      expect(report.last24h.runs).toBe(1);
      expect(report.last24h.usd).toBeGreaterThan(3);
      expect(report.remainingUsd).toBe(0);
      expect(report.costliest[0]).toMatchObject({ taskId: task.id, type: "claude-code", title: "dear" });
      const second = await manager.enqueueTask({ type: "claude-code", title: "next", prompt: "hello" });
      // Once its retry's backoff (at most 200 ms) has passed, what holds it is the budget.
      await waitFor(async () => ((await manager.whyWaiting(task.id))?.code === "over_budget") || undefined, 5000, "the retry to wait for the budget");
      expect((await manager.whyWaiting(second.task.id))?.code).toBe("over_budget");
      expect(manager.claimableTypes()).not.toContain("claude-code");
      expect(standIn.requests.length - before).toBe(1); // one call: nothing ran after the budget was spent
    } finally {
      await manager.stop(0);
      await store.close();
    }
  });
});
