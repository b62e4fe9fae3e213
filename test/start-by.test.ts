/**
 * startBy, on PGlite and PostgreSQL: a task not started by then is cancelled as expired, never run —
 * found by the sweep while nothing claims it (its type paused), or by the worker that claimed it
 * ahead and got a slot too late; the time is kept in UTC; a startBy not after runAt is refused.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PauseStore } from "../src/store/pause-store.js";
import type { TaskStore } from "../src/store/task-store.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import { expiryOf } from "../src/tasks/expired-tasks.js";
import { ValidationError } from "../src/validation.js";
import { cliRegistry, testManager } from "./support/manager.js";
import { waitFor } from "./support/process.js";
import { finalStatus, scriptedExecutor, type RunLog } from "./support/scripted-executor.js";
import { BACKENDS } from "./support/stores.js";

const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`startBy on ${backend.name}`, () => {
    let store: TaskStore;
    let cleanup: () => Promise<void>;
    let manager: TaskManager;
    let log: RunLog;
    beforeEach(async () => {
      ({ store, cleanup } = await backend.open());
      log = [];
      manager = testManager(store, { maxConcurrent: 1, prefetch: 3, maxPerDocument: 10, maxPerDrive: 10 }, cliRegistry("/tmp").register(scriptedExecutor(log)));
      await manager.start();
    });
    afterEach(async () => {
      await manager.stop(0);
      await cleanup();
    });

    it("waiting behind a pause past its startBy: the sweep cancels it as expired; another one runs", async () => {
      const pauses = new PauseStore(store.db);
      await pauses.pause(["scripted"], "held for the test");
      await waitFor(() => (!manager.claimableTypes().includes("scripted") ? true : undefined), 5000, "the pause seen");
      const startBy = inMs(500);
      const { task } = await manager.enqueueTask({ type: "scripted", title: "due soon", startBy });
      const ended = await finalStatus(manager, task.id);
      expect(ended).toMatchObject({ status: "cancelled", attempts: 0, error: { kind: "fatal", code: "expired", message: `not started by its startBy (${startBy})` } });
      await pauses.resume(["scripted"]);
      const other = await manager.enqueueTask({ type: "scripted", title: "no deadline" });
      expect((await finalStatus(manager, other.task.id)).status).toBe("completed");
      expect(log.map((r) => r.id)).toEqual([other.task.id]); // the expired one never ran
    });

    it("claimed ahead while the slot was busy, and the slot freed after its startBy: ended as expired, not run", async () => {
      for (let i = 0; i < 3; i++) await finalStatus(manager, (await manager.enqueueTask({ type: "scripted", title: `warm-up ${i}` })).task.id); // short runs: prefetch on
      const [holder, late] = await manager.enqueueTasks([
        { type: "scripted", title: "holds the slot", script: ["hold:700"] },
        { type: "scripted", title: "too late", startBy: inMs(250) },
      ]);
      const ended = await finalStatus(manager, late!.task.id);
      expect(ended).toMatchObject({ status: "cancelled", error: { code: "expired" } });
      expect(ended.attempts).toBe(1); // it was claimed (ahead), then ended at its launch
      expect((await finalStatus(manager, holder!.task.id)).status).toBe("completed");
      expect(log.some((r) => r.id === late!.task.id)).toBe(false);
    });

    it("keeps startBy in UTC; refuses one not after runAt, or not a time, naming the field", async () => {
      const { task } = await manager.enqueueTask({ type: "scripted", title: "in UTC", startBy: "2027-01-04T04:00:00+01:00", runAt: "2027-01-04T02:00:00Z" });
      expect(task.startBy).toBe("2027-01-04T03:00:00.000Z");
      await manager.cancelTask(task.id);
      const early = await manager.enqueueTask({ type: "scripted", title: "never", runAt: "2027-01-04T03:00:00Z", startBy: "2027-01-04T03:00:00Z" }).catch((e: unknown) => e);
      expect((early as ValidationError).errors).toEqual([{ field: "startBy", message: "must be after runAt (2027-01-04T03:00:00Z): it could never start", value: '"2027-01-04T03:00:00.000Z"' }]);
      const notATime = await manager.enqueueTask({ type: "scripted", title: "never", startBy: "soon" }).catch((e: unknown) => e);
      expect((notATime as ValidationError).errors[0]).toMatchObject({ field: "startBy", message: "must be an ISO 8601 date and time with a zone, e.g. 2026-12-04T03:00:00Z" });
    });
  });
}

describe("expiryOf", () => {
  it("ends a task past its startBy, and leaves one without or before it", () => {
    const base = { id: "t", type: "x", title: "t", instructions: "", status: "running", priority: 0, attempts: 1, maxAttempts: 1, timeoutMs: 1000, createdAt: new Date(), updatedAt: new Date() } as const;
    expect(expiryOf({ ...base })).toBeUndefined();
    expect(expiryOf({ ...base, startBy: "2030-01-01T00:00:00.000Z" }, Date.parse("2029-12-31T23:59:59Z"))).toBeUndefined();
    expect(expiryOf({ ...base, startBy: "2030-01-01T00:00:00.000Z" }, Date.parse("2030-01-01T00:00:01Z"))).toMatchObject({ status: "cancelled", error: { code: "expired" } });
  });
});
