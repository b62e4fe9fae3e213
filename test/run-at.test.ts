/**
 * runAt, "not before": a task waits in the queue until then and says so; a time past runs it at
 * once; with dependencies it waits for both (released to its runAt when they complete first);
 * a bad runAt is refused naming the field.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../src/validation.js";
import { sleep, waitFor } from "./support/process.js";
import { BACKENDS } from "./support/stores.js";
import { workerPerTest } from "./support/worker-per-test.js";

const dir = mkdtempSync(path.join(tmpdir(), "ph-run-at-"));
const task = (title: string, extra: Record<string, unknown> = {}) => ({ type: "cli", title, command: "true", workingDirectory: dir, ...extra });
const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`runAt on ${backend.name}`, () => {
    const ctx = workerPerTest(backend, { maxConcurrent: 4, maxPerDocument: 10, maxPerDrive: 10 }, dir);
    const finished = (id: string) => waitFor(async () => { const t = await ctx.manager.getTask(id); return t && t.status !== "pending" && t.status !== "running" ? t : undefined; }, 15_000, `task ${id} to end`);

    it("waits until its runAt, says so, then runs; a runAt past runs at once", async () => {
      const runAt = inMs(1500);
      const later = await ctx.manager.enqueueTask(task("later", { runAt }));
      expect(later.task.runAt).toBe(runAt);
      await sleep(400);
      expect((await ctx.manager.getTask(later.task.id))?.status).toBe("pending");
      expect(await ctx.manager.whyWaiting(later.task.id)).toEqual({ code: "not_before", message: `not before ${runAt} (its runAt)`, until: runAt });
      const past = await ctx.manager.enqueueTask(task("past", { runAt: inMs(-3_600_000) }));
      const pastDone = await finished(past.task.id);
      expect(pastDone.status).toBe("completed");
      expect(pastDone.runtime.startedAt!.getTime()).toBeLessThan(Date.parse(runAt));
      const done = await finished(later.task.id);
      expect(done.status).toBe("completed");
      expect(done.runtime.startedAt!.getTime()).toBeGreaterThanOrEqual(Date.parse(runAt) - 5); // the database's clock against this one's
    });

    it("with dependencies: released to its runAt when they complete first, also when they had completed already", async () => {
      const first = await ctx.manager.enqueueTask(task("first"));
      await finished(first.task.id);
      const runAt = inMs(1500);
      const afterDone = await ctx.manager.enqueueTask(task("after a completed one", { dependsOn: [first.task.id], runAt }));
      const slow = await ctx.manager.enqueueTask({ ...task("slow"), command: "sleep", args: ["0.3"] });
      const afterSlow = await ctx.manager.enqueueTask(task("after a slow one", { dependsOn: [slow.task.id], runAt }));
      await finished(slow.task.id);
      await sleep(200);
      expect((await ctx.manager.whyWaiting(afterSlow.task.id))?.code).toBe("not_before");
      for (const id of [afterDone.task.id, afterSlow.task.id]) {
        const done = await finished(id);
        expect(done.status).toBe("completed");
        expect(done.runtime.startedAt!.getTime()).toBeGreaterThanOrEqual(Date.parse(runAt) - 5);
      }
    });

    it("refuses a runAt without a zone, not a time, or more than a year ahead, naming the field; nothing is stored", async () => {
      const before = (await ctx.manager.listTasks({ limit: 100, offset: 0 })).total;
      for (const [runAt, message] of [
        ["2026-12-04T03:00:00", "must be an ISO 8601 date and time with a zone, e.g. 2026-12-04T03:00:00Z"],
        ["tomorrow", "must be an ISO 8601 date and time with a zone, e.g. 2026-12-04T03:00:00Z"],
        [inMs(400 * 24 * 3600 * 1000), "must be within a year from now"],
      ] as const) {
        const error = await ctx.manager.enqueueTask(task("bad", { runAt })).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).errors).toEqual([{ field: "runAt", message, value: JSON.stringify(runAt) }]);
      }
      expect((await ctx.manager.listTasks({ limit: 100, offset: 0 })).total).toBe(before);
    });
  });
}
