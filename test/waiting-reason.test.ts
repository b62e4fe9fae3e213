/**
 * Why a pending task has not started, as `GET /api/tasks/:id` (and through it `ph-tasks show` and the
 * dashboard) tells it: its dependencies, a retry's time, a pause, a full rate-limit window, a busy
 * document or drive, or the tasks ahead of it. On PGlite and PostgreSQL.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PauseStore } from "../src/store/pause-store.js";
import { RateLimitStore } from "../src/store/rate-limit-store.js";
import type { TaskStore } from "../src/store/task-store.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import { serveApi } from "./support/api-server.js";
import { cliRegistry, testManager } from "./support/manager.js";
import { waitFor } from "./support/process.js";
import { scriptedExecutor, type RunLog } from "./support/scripted-executor.js";
import { BACKENDS } from "./support/stores.js";

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`why a task waits, on ${backend.name}`, () => {
    let store: TaskStore;
    let manager: TaskManager;
    let cleanup: () => Promise<void>;
    const log: RunLog = [];
    const why = async (id: string) => (await manager.whyWaiting(id))?.code;

    beforeEach(async () => {
      ({ store, cleanup } = await backend.open());
      manager = testManager(store, { maxPerDocument: 1, maxPerDrive: 2 }, cliRegistry("/tmp").register(scriptedExecutor(log)));
    });
    afterEach(async () => {
      await manager.stop(0);
      await cleanup();
    });

    it("names the tasks ahead, the dependencies, a retry's time, a pause and a full rate-limit window", async () => {
      // Not started: nothing runs, so each reason is the only one.
      const first = (await manager.enqueueTask({ type: "cli", title: "first", command: "true" })).task;
      const third = (await manager.enqueueTasks([{ type: "cli", title: "second", command: "true" }, { type: "cli", title: "third", command: "true" }]))[1]!.task;
      expect(await manager.whyWaiting(first.id)).toEqual({ code: "queued", message: "next in line: it starts when a worker has a free slot" });
      expect(await manager.whyWaiting(third.id)).toEqual({ code: "queued", message: "2 task(s) ahead of it in the queue" });

      const after = (await manager.enqueueTask({ type: "cli", title: "after", command: "true", dependsOn: [first.id] })).task;
      expect(await manager.whyWaiting(after.id)).toEqual({ code: "dependencies", message: `waits for task ${first.id} to complete`, tasks: [first.id] });

      await store.db.query("UPDATE ph_tasks SET run_at = now() + interval '1 hour' WHERE id = $1", [third.id]);
      expect(await manager.whyWaiting(third.id)).toMatchObject({ code: "not_before", until: expect.any(String) as string });

      await new PauseStore(store.db).pause(["cli"], "disk full");
      expect(await manager.whyWaiting(first.id)).toEqual({ code: "paused", message: "the queue is paused for cli (disk full)" });
      await new PauseStore(store.db).resume();

      const limits = new RateLimitStore(store.db);
      await limits.set("cli", 1, 3_600_000, "");
      expect(await why(first.id)).toBe("queued"); // room left in the window
      await limits.reserve(new Map([["cli", 1]])); // someone took the hour's start
      const limited = await manager.whyWaiting(first.id);
      expect(limited).toMatchObject({ code: "rate_limited", message: expect.stringContaining("its type's rate limit is reached (1 per 3600 s)") as string });
      expect(Date.parse(limited?.until ?? "") - Date.now()).toBeGreaterThan(3_500_000);
    });

    it("names a busy document and a busy drive; the API answers with it, a finished task without", async () => {
      await manager.start();
      const hold = (title: string, documentId: string, driveId: string) => manager.enqueueTask({ type: "scripted", title, script: ["hold:1500"], source: { documentId, driveId } });
      const running = [(await hold("a", "doc-1", "drive-1")).task, (await hold("b", "doc-2", "drive-1")).task];
      await waitFor(async () => ((await Promise.all(running.map((t) => manager.getTask(t.id)))).every((t) => t?.status === "running") ? true : undefined), 10_000, "both to run");
      const sameDocument = (await hold("c", "doc-1", "drive-2")).task;
      const sameDrive = (await hold("d", "doc-3", "drive-1")).task;
      expect(await manager.whyWaiting(sameDocument.id)).toEqual({ code: "document_busy", message: "1 task(s) of its document running; at most 1 at once" });
      expect(await manager.whyWaiting(sameDrive.id)).toEqual({ code: "drive_busy", message: "2 task(s) of its drive running; at most 2 at once" });

      const http = await serveApi(manager);
      try {
        const body = (await (await http.api(`/api/tasks/${sameDrive.id}`)).json()) as { task: { waiting?: { code: string } } };
        expect(body.task.waiting?.code).toBe("drive_busy");
        await waitFor(async () => ((await manager.getTask(running[0]!.id))?.status === "completed" ? true : undefined), 10_000, "the first to end");
        const done = (await (await http.api(`/api/tasks/${running[0]!.id}`)).json()) as { task: Record<string, unknown> };
        expect(done.task).not.toHaveProperty("waiting");
      } finally {
        await http.close();
      }
    });
  });
}
