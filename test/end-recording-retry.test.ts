/**
 * A run's end that the store refuses for a moment (a deadlock's victim, a connection reset) is
 * recorded on a later try, not left to the lease: before, two failures in a row rejected it and
 * the task ran again once its lease ran out. On PGlite and PostgreSQL.
 */
import { describe, expect, it } from "vitest";
import type { TaskStore } from "../src/store/task-store.js";
import { testManager } from "./support/manager.js";
import { BACKENDS } from "./support/stores.js";
import { waitFor } from "./support/process.js";

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`recording a run's end on ${backend.name}`, () => {
    it("is tried again when the store refuses it, and the task runs once", async () => {
      const { store, cleanup } = await backend.open();
      const original = store.finishAndClaim.bind(store);
      let refused = 0;
      // The first three round trips that carry an end fail, as a deadlock's victim does.
      store.finishAndClaim = async (...args: Parameters<TaskStore["finishAndClaim"]>) => {
        if (args[1].length > 0 && refused < 3) {
          refused++;
          throw Object.assign(new Error("deadlock detected"), { code: "40P01" });
        }
        return original(...args);
      };
      const manager = testManager(store);
      try {
        await manager.start();
        const { task } = await manager.enqueueTask({ type: "cli", title: "once", command: "echo", args: ["ran"], maxAttempts: 3 });
        const done = await waitFor(async () => {
          const t = await manager.getTask(task.id);
          return t?.status === "completed" ? t : undefined;
        }, 15_000, "the task to complete");
        expect(refused).toBe(3);
        expect(done.attempts).toBe(1);
        const statuses = (await manager.getEvents(task.id)).filter((e) => e.kind === "status").map((e) => (JSON.parse(e.data) as { status: string }).status);
        expect(statuses).toEqual(["pending", "running", "completed"]);
      } finally {
        await manager.stop(0);
        store.finishAndClaim = original;
        await cleanup();
      }
    });
  });
}
