/**
 * A task's attempts (GET /api/tasks/:id/attempts, `ph-tasks show`, the dashboard's task page), read
 * back from the status entries of its event log: a flaky command retried twice and then completed,
 * a task whose worker died mid-run (lost) and ran again elsewhere, a run returned at a shutdown.
 */
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { attemptHistory } from "../src/tasks/attempt-history.js";
import { apiPerTest, TEST_TOKEN } from "./support/api-server.js";
import { testManager } from "./support/manager.js";
import { waitFor } from "./support/process.js";
import { BACKENDS } from "./support/stores.js";
import { workerPerTest } from "./support/worker-per-test.js";

const dir = mkdtempSync(path.join(tmpdir(), "ph-attempts-"));
const at = (s: number) => new Date(Date.UTC(2026, 11, 5, 10, 0, s));
const entry = (s: number, data: unknown) => ({ kind: "status" as const, data: typeof data === "string" ? data : JSON.stringify(data), created_at: at(s) });

/** A command that fails (exit 1, retryable) until its `n`th run (a counter file in `dir`). */
const flaky = (name: string, n: number) => ({ type: "cli", title: `flaky ${name}`, command: "sh", workingDirectory: dir, maxAttempts: 3, retryExitCodes: [1], args: ["-c", `c=$(cat ${name} 2>/dev/null || echo 0); c=$((c+1)); echo $c > ${name}; echo "run $c" >&2; [ $c -ge ${n} ]`] });

describe("attempt history from status entries", () => {
  it("names each attempt's worker, times and outcome; skips entries that are not attempts or not readable", () => {
    const history = attemptHistory([
      entry(0, { status: "pending", attempt: 0 }),
      entry(1, { status: "running", attempt: 1, workerId: "w-a" }),
      entry(3, { status: "pending", retryInMs: 1000, attempt: 1, error: { kind: "retryable", code: "exit_code", message: "exited with 1" } }),
      entry(4, { status: "running", attempt: 2, workerId: "w-b" }),
      entry(5, { status: "pending", reason: "shutdown, not started" }),
      entry(6, "not json"),
      entry(7, { status: "running", attempt: 2, workerId: "w-b" }),
      entry(20, { status: "pending", recovered: true, error: { kind: "retryable", code: "worker_lost", message: "worker w-b stopped renewing its lease" } }),
      { kind: "output" as const, data: "hello", created_at: at(21) },
      entry(22, { status: "running", attempt: 3, workerId: "w-a" }),
      entry(23, { status: "completed", attempt: 3, durationMs: 450 }),
      entry(30, { status: "pending", retried: true }),
      entry(31, { status: "running", attempt: 1, workerId: "w-c" }),
    ]);
    expect(history).toEqual([
      { attempt: 1, workerId: "w-a", startedAt: at(1).toISOString(), endedAt: at(3).toISOString(), durationMs: 2000, outcome: "retrying", retryAt: at(4).toISOString(), error: { kind: "retryable", code: "exit_code", message: "exited with 1" } },
      { attempt: 2, workerId: "w-b", startedAt: at(4).toISOString(), endedAt: at(5).toISOString(), durationMs: 1000, outcome: "returned", reason: "shutdown, not started" },
      { attempt: 2, workerId: "w-b", startedAt: at(7).toISOString(), endedAt: at(20).toISOString(), durationMs: 13_000, outcome: "lost", error: { kind: "retryable", code: "worker_lost", message: "worker w-b stopped renewing its lease" } },
      { attempt: 3, workerId: "w-a", startedAt: at(22).toISOString(), endedAt: at(23).toISOString(), durationMs: 450, outcome: "completed" },
      { attempt: 1, workerId: "w-c", startedAt: at(31).toISOString(), endedAt: null, durationMs: null, outcome: "running" },
    ]);
  });
});

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`attempt history on ${backend.name}`, () => {
    const ctx = workerPerTest(backend, { retry: { baseMs: 50, maxMs: 100 } }, dir);

    it("a flaky command: two attempts retrying with their error, the third completed, all on this worker", async () => {
      const { task } = await ctx.manager.enqueueTask(flaky(`flaky-${backend.name}-${Date.now()}`, 3));
      await waitFor(async () => ((await ctx.manager.getTask(task.id))?.status === "completed" ? true : undefined), 20_000, "the flaky task to complete");
      const history = attemptHistory(await ctx.store.statusEntries(task.id));
      expect(history.map((a) => [a.attempt, a.outcome, a.workerId])).toEqual([[1, "retrying", ctx.manager.workerId], [2, "retrying", ctx.manager.workerId], [3, "completed", ctx.manager.workerId]]);
      expect(history[0]?.error?.kind).toBe("retryable");
      for (const a of history) {
        expect(a.durationMs).not.toBeNull();
        expect(Date.parse(a.endedAt!)).toBeGreaterThanOrEqual(Date.parse(a.startedAt));
      }
      expect(Date.parse(history[0]!.retryAt!)).toBeGreaterThan(Date.parse(history[0]!.endedAt!));
      expect(Date.parse(history[1]!.startedAt)).toBeGreaterThanOrEqual(Date.parse(history[0]!.retryAt!) - 5);
    });

    it("a task whose worker died mid-run: lost, then run again by another worker", async () => {
      await ctx.manager.stop(0);
      const { task } = await ctx.manager.enqueueTask({ type: "cli", title: "outlives its worker", command: "true", workingDirectory: dir });
      // A worker claims it and dies: it never renews its 200 ms lease nor records an end.
      const claimed = await ctx.store.finishAndClaim("ghost", [], { workerId: "ghost", count: 1, leaseMs: 200, maxPerDocument: 1, maxPerDrive: 3, typeSlots: {}, types: ["cli"] }, []);
      expect(claimed.claimed.map((r) => r.id)).toEqual([task.id]);
      const rescuer = testManager(ctx.store, { workerId: "rescuer", heartbeatMs: 100 }, ctx.manager.registry);
      await rescuer.start();
      try {
        await waitFor(async () => ((await rescuer.getTask(task.id))?.status === "completed" ? true : undefined), 15_000, "the task to complete on the rescuer");
      } finally {
        await rescuer.stop(0);
      }
      const history = attemptHistory(await ctx.store.statusEntries(task.id));
      expect(history.map((a) => [a.attempt, a.outcome, a.workerId])).toEqual([[1, "lost", "ghost"], [2, "completed", "rescuer"]]);
      expect(history[0]?.error?.code).toBe("worker_lost");
    });
  });
}

describe("attempts over the API and the CLI", () => {
  const ctx = apiPerTest();

  it("GET /api/tasks/:id/attempts lists them; ph-tasks show prints them; an unknown id is a 404", async () => {
    await ctx.manager.start();
    const { task } = await ctx.manager.enqueueTask(flaky(`flaky-api-${Date.now()}`, 2));
    await waitFor(async () => ((await ctx.manager.getTask(task.id))?.status === "completed" ? true : undefined), 20_000, "the flaky task to complete");
    const response = await ctx.http.api(`/api/tasks/${task.id}/attempts`);
    expect(response.status).toBe(200);
    const { attempts } = (await response.json()) as { attempts: { attempt: number; outcome: string; workerId: string }[] };
    expect(attempts.map((a) => [a.attempt, a.outcome, a.workerId])).toEqual([[1, "retrying", ctx.manager.workerId], [2, "completed", ctx.manager.workerId]]);
    expect((await ctx.http.api("/api/tasks/no-such-task/attempts")).status).toBe(404);

    const shown = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [path.resolve("bin/ph-tasks.js"), "show", task.id], { encoding: "utf8", env: { ...process.env, PH_TASKS_URL: ctx.http.url, API_TOKEN: TEST_TOKEN } }, (error, stdout) => (error ? reject(new Error(error.message)) : resolve(stdout))));
    expect(shown).toMatch(/^history:\n +OUTCOME +WORKER +STARTED +TOOK +WHY\n/m);
    expect(shown).toMatch(new RegExp(`^#1 +retrying +${ctx.manager.workerId} +\\S+ +(\\d+ ms|\\d+\\.\\d s) +exit_code: .*\\(next at \\S+\\)$`, "m"));
    expect(shown).toMatch(new RegExp(`^#2 +completed +${ctx.manager.workerId} +\\S+ +(\\d+ ms|\\d+\\.\\d s)$`, "m"));
  });
});
