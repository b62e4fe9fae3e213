/**
 * The heartbeat's lease renewal, on PGlite and PostgreSQL: a run whose lease another worker took
 * (this one stalled past it) is stopped and its end not recorded over the other's; a cancel asked
 * for in the database alone (no NOTIFY reached this worker) stops the run at the next renewal.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { sleep, waitFor } from "./support/process.js";
import { BACKENDS } from "./support/stores.js";
import { workerPerTest } from "./support/worker-per-test.js";

const dir = mkdtempSync(path.join(tmpdir(), "ph-lease-"));

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`lease renewal on ${backend.name}`, () => {
    const ctx = workerPerTest(backend, { maxConcurrent: 4, maxPerDocument: 10, maxPerDrive: 10 }, dir);

    const running = (id: string) => waitFor(async () => ((await ctx.manager.getTask(id))?.status === "running" && ctx.manager.runningTaskIds().includes(id) ? true : undefined), 10_000, `task ${id} to run`);

    it("a run whose lease another worker holds now is stopped, and its end does not overwrite the other's", async () => {
      const { task } = await ctx.manager.enqueueTask({ type: "cli", title: "taken over", command: "sleep", args: ["30"] });
      await running(task.id);
      await ctx.store.db.query("UPDATE ph_tasks SET locked_by = 'the-other-worker' WHERE id = $1", [task.id]);
      await waitFor(() => (!ctx.manager.runningTaskIds().includes(task.id) ? true : undefined), 5000, "the run to stop");
      await sleep(300);
      expect(await ctx.manager.getTask(task.id)).toMatchObject({ status: "running", runtime: { workerId: "the-other-worker" } });
    });

    it("a cancel asked for in the database alone stops the run at the next renewal", async () => {
      const { task } = await ctx.manager.enqueueTask({ type: "cli", title: "cancelled quietly", command: "sleep", args: ["30"] });
      await running(task.id);
      await ctx.store.db.query("UPDATE ph_tasks SET cancel_requested = true WHERE id = $1", [task.id]);
      const ended = await waitFor(async () => { const t = await ctx.manager.getTask(task.id); return t?.status === "cancelled" ? t : undefined; }, 5000, "the run to be cancelled");
      expect(ended.runtime.finishedAt).toBeTruthy();
    });
  });
}
