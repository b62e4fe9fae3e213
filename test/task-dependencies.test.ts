/**
 * Task dependencies on PGlite and PostgreSQL: a task waits for the tasks it depends on, runs once
 * the last has completed, waits on while one failed until it is retried, and is refused whole when
 * it names no task; with onDependencyFailure "cancel" it and its chain are cancelled instead
 * (also when the dependency failed before it was stored, or ended on a worker that died before
 * cancelling); retried, a dependent waits for its dependencies again; on PostgreSQL, two
 * dependencies completing at the same instant on two workers release it (the release trigger's lock).
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TaskStore } from "../src/store/task-store.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import { ValidationError } from "../src/validation.js";
import { cliRegistry, testManager } from "./support/manager.js";
import { sleep, waitFor } from "./support/process.js";
import { workerPerTest } from "./support/worker-per-test.js";
import { BACKENDS, dropSchema, postgresAvailable, TEST_DATABASE_URL, uniqueSchema } from "./support/stores.js";

const dir = mkdtempSync(path.join(tmpdir(), "ph-deps-"));
const sh = (title: string, script: string, extra: Record<string, unknown> = {}) => ({ type: "cli", title, command: "sh", args: ["-c", script], workingDirectory: dir, ...extra });
const finished = async (manager: TaskManager, id: string) => waitFor(async () => { const t = await manager.getTask(id); return t && ["completed", "failed", "cancelled"].includes(t.status) ? t : undefined; }, 15_000, `task ${id} to end`);

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`task dependencies on ${backend.name}`, () => {
    const ctx = workerPerTest(backend, { maxConcurrent: 5, maxPerDocument: 10, maxPerDrive: 10 }, dir);

    it("waits for every task it depends on, then runs", async () => {
      const log = path.join(dir, `order-${backend.name}-${Date.now()}`);
      const a = await ctx.manager.enqueueTask(sh("a", `sleep 0.4; echo a >> ${log}`));
      const b = await ctx.manager.enqueueTask(sh("b", `sleep 0.8; echo b >> ${log}`));
      const c = await ctx.manager.enqueueTask(sh("c", `echo c >> ${log}`, { dependsOn: [a.task.id, b.task.id] }));
      expect(c.task.dependsOn).toEqual([a.task.id, b.task.id]);
      const done = await finished(ctx.manager, c.task.id);
      expect(done.status).toBe("completed");
      expect(readFileSync(log, "utf8")).toBe("a\nb\nc\n");
      const bDone = await ctx.manager.getTask(b.task.id);
      expect(done.runtime.startedAt?.getTime()).toBeGreaterThanOrEqual(bDone?.runtime.finishedAt?.getTime() ?? Infinity);
      expect((await ctx.manager.getTask(c.task.id))?.dependsOn).toEqual([a.task.id, b.task.id]);
    });

    it("a dependency that completed already: runs at once", async () => {
      const a = await ctx.manager.enqueueTask(sh("a", "true"));
      await finished(ctx.manager, a.task.id);
      const b = await ctx.manager.enqueueTask(sh("b", "true", { dependsOn: [a.task.id] }));
      expect((await finished(ctx.manager, b.task.id)).status).toBe("completed");
    });

    it("a failed dependency keeps it waiting; retried and completed, it releases it", async () => {
      const flag = path.join(dir, `flag-${backend.name}-${Date.now()}`);
      const a = await ctx.manager.enqueueTask(sh("flaky", `test -f ${flag} || { touch ${flag}; exit 3; }`, { maxAttempts: 1 }));
      const b = await ctx.manager.enqueueTask(sh("after flaky", "true", { dependsOn: [a.task.id] }));
      expect((await finished(ctx.manager, a.task.id)).status).toBe("failed");
      await sleep(700);
      expect((await ctx.manager.getTask(b.task.id))?.status).toBe("pending");
      expect(await ctx.manager.retryTask(a.task.id)).toBeTruthy();
      expect((await finished(ctx.manager, a.task.id)).status).toBe("completed");
      expect((await finished(ctx.manager, b.task.id)).status).toBe("completed");
    });

    it('onDependencyFailure "cancel": a failed dependency cancels it and the chain after it, naming the dependency; a "wait" one waits on', async () => {
      const a = await ctx.manager.enqueueTask(sh("build", "exit 3", { maxAttempts: 1 }));
      const b = await ctx.manager.enqueueTask(sh("test", "true", { dependsOn: [a.task.id], onDependencyFailure: "cancel" }));
      const c = await ctx.manager.enqueueTask(sh("deploy", "true", { dependsOn: [b.task.id], onDependencyFailure: "cancel" }));
      const d = await ctx.manager.enqueueTask(sh("report", "true", { dependsOn: [a.task.id] }));
      expect((await finished(ctx.manager, a.task.id)).status).toBe("failed");
      const bEnd = await finished(ctx.manager, b.task.id);
      expect(bEnd).toMatchObject({ status: "cancelled", attempts: 0, error: { kind: "fatal", code: "dependency_failed", message: `task ${a.task.id} it depends on failed (onDependencyFailure: cancel)` } });
      const cEnd = await finished(ctx.manager, c.task.id);
      expect(cEnd.error).toMatchObject({ code: "dependency_failed", message: `task ${b.task.id} it depends on was cancelled (onDependencyFailure: cancel)` });
      await sleep(300);
      expect((await ctx.manager.getTask(d.task.id))?.status).toBe("pending");
      expect((await ctx.manager.getTask(b.task.id))?.onDependencyFailure).toBe("cancel");

      // A dependency that failed before its dependent was stored: cancelled when stored.
      const late = await ctx.manager.enqueueTask(sh("late", "true", { dependsOn: [a.task.id], onDependencyFailure: "cancel" }));
      expect((await finished(ctx.manager, late.task.id)).error?.code).toBe("dependency_failed");

      // Retried, a dependent waits again for its dependency; the dependency retried and completed releases it.
      expect(await ctx.manager.retryTask(b.task.id)).toBeTruthy();
      await sleep(500);
      expect((await ctx.manager.getTask(b.task.id))?.status).toBe("pending");
      expect((await ctx.manager.whyWaiting(b.task.id))?.code).toBe("dependencies");
      await ctx.store.db.query("UPDATE ph_tasks SET params = jsonb_set(params, '{args,1}', '\"true\"') WHERE id = $1", [a.task.id]);
      expect(await ctx.manager.retryTask(a.task.id)).toBeTruthy();
      expect((await finished(ctx.manager, b.task.id)).status).toBe("completed");
      expect((await finished(ctx.manager, d.task.id)).status).toBe("completed");
    });

    it("a dependent whose dependency ended on a worker that died before cancelling it is cancelled by the next sweep; a bad onDependencyFailure is refused", async () => {
      const a = await ctx.manager.enqueueTask(sh("gone wrong", "true", { maxAttempts: 1 }));
      await finished(ctx.manager, a.task.id);
      const b = await ctx.manager.enqueueTask(sh("after", "true", { dependsOn: [a.task.id], onDependencyFailure: "cancel" }));
      // As if another worker recorded the failure and died: no event here.
      await ctx.manager.stop(0);
      await ctx.store.db.query("UPDATE ph_tasks SET status = 'failed' WHERE id = $1", [a.task.id]);
      await ctx.store.db.query("UPDATE ph_tasks SET run_at = '3000-01-01 00:00:00+00', status = 'pending', finished_at = NULL, error = NULL WHERE id = $1", [b.task.id]);
      expect((await ctx.manager.getTask(b.task.id))?.status).toBe("pending");
      await ctx.manager.start(); // a worker starting sweeps (and every 30 s after)
      expect((await finished(ctx.manager, b.task.id)).error?.message).toBe(`task ${a.task.id} it depends on failed (onDependencyFailure: cancel)`);

      const bad = await ctx.manager.enqueueTask(sh("bad", "true", { dependsOn: [a.task.id], onDependencyFailure: "skip" })).catch((e: unknown) => e);
      expect((bad as ValidationError).errors).toEqual([{ field: "onDependencyFailure", message: 'must be "wait" or "cancel"', value: '"skip"' }]);
      const alone = await ctx.manager.enqueueTask(sh("alone", "true", { onDependencyFailure: "cancel" })).catch((e: unknown) => e);
      expect((alone as ValidationError).errors).toEqual([{ field: "onDependencyFailure", message: "only with dependsOn: it says what to do when a dependency fails", value: '"cancel"' }]);
    });

    it("naming no task refuses the whole request, naming it; nothing is stored", async () => {
      const before = (await ctx.manager.listTasks({ limit: 100, offset: 0 })).total;
      const error = await ctx.manager.enqueueTasks([sh("fine", "true"), sh("orphan", "true", { dependsOn: ["no-such-task"] })]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).errors).toEqual([expect.objectContaining({ field: "dependsOn", value: '"no-such-task"' })]);
      expect((await ctx.manager.listTasks({ limit: 100, offset: 0 })).total).toBe(before);
      const twice = await ctx.manager.enqueueTask(sh("twice", "true", { dependsOn: ["x", "x"] })).catch((e: unknown) => e);
      expect((twice as ValidationError).errors[0]).toMatchObject({ field: "dependsOn", message: "must not name a task twice" });
    });
  });
}

describe.skipIf(!postgresAvailable)("task dependencies with two workers sharing PostgreSQL", () => {
  const schema = uniqueSchema("deps");
  const stores: TaskStore[] = [];
  const managers: TaskManager[] = [];
  afterEach(async () => {
    for (const m of managers.splice(0)) await m.stop(0);
    for (const s of stores.splice(0)) await s.close();
    await dropSchema(schema);
  });

  it("two dependencies completing at the same instant on two workers release the task that waits for both", async () => {
    for (let i = 0; i < 2; i++) {
      const store = await TaskStore.open({ databaseUrl: TEST_DATABASE_URL, schema });
      stores.push(store);
      // One slot each: the two dependencies run on different workers, side by side.
      managers.push(testManager(store, { workerId: `dep-w${i}`, maxConcurrent: 1, maxPerDocument: 10, maxPerDrive: 10 }, cliRegistry(dir)));
    }
    const [one, two] = managers as [TaskManager, TaskManager];
    const rounds = 6;
    const waiting: string[] = [];
    for (let i = 0; i < rounds; i++) {
      const [a, b] = await one.enqueueTasks([sh(`a${i}`, "sleep 0.3"), sh(`b${i}`, "sleep 0.3")]);
      waiting.push((await one.enqueueTask(sh(`c${i}`, "true", { dependsOn: [a?.task.id ?? "", b?.task.id ?? ""] }))).task.id);
    }
    const ranOn = new Map<string, string>();
    for (const m of managers) m.on("started", (task) => ranOn.set(task.title, m.workerId));
    await Promise.all([one.start(), two.start()]);
    for (const id of waiting) expect((await finished(one, id)).status).toBe("completed");
    // The pairs really ran side by side on both workers.
    expect(new Set([...ranOn.entries()].filter(([title]) => /^[ab]/.test(title)).map(([, worker]) => worker)).size).toBe(2);
  });
});
