/**
 * Pausing the queue, on PGlite and PostgreSQL: a paused type is claimed by no worker (another
 * process's store included) while its tasks are still accepted and its running ones finish; a
 * resumed type runs at once; a pause holds for a worker started later; the API refuses a type the
 * agent does not have and names the allowed ones; the metrics show what is paused.
 */
import { describe, expect, it } from "vitest";
import { PauseService } from "../src/queue/pause-service.js";
import { PauseStore } from "../src/store/pause-store.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import { sleep, waitFor } from "./support/process.js";
import { finalStatus } from "./support/scripted-executor.js";
import { BACKENDS } from "./support/stores.js";
import { twoWorkersPerTest } from "./support/two-workers.js";
import { apiPerTest } from "./support/api-server.js";

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`queue pauses on ${backend.name}`, () => {
    const ctx = twoWorkersPerTest(backend, { maxPerDocument: 10 });
    const { make } = ctx;
    const status = async (manager: TaskManager, id: string) => (await manager.getTask(id))?.status;

    it("a paused type is claimed by no worker, still accepted; its running task finishes; resumed, it runs at once", async () => {
      const a = make(ctx.store);
      const b = make(ctx.other);
      await a.start();
      await b.start();
      const pauses = new PauseService(new PauseStore(ctx.store.db), a.registry);
      // Started, not only claimed: a task claimed but not yet started when the pause lands goes back.
      const firstStarted = new Promise<void>((resolve) => {
        for (const m of [a, b]) m.on("started", (task) => task.title === "already running" && resolve());
      });
      const { task: running } = await a.enqueueTask({ type: "scripted", title: "already running", script: ["hold:800"] });
      await firstStarted;

      await pauses.pause({ types: ["scripted"], reason: "maintenance" });
      // Every worker hears of it a moment later (a notification, then a read of the pauses).
      await waitFor(() => (a.claimableTypes().includes("scripted") || b.claimableTypes().includes("scripted") ? undefined : true), 5000, "both workers to see the pause");
      const { task: held } = await b.enqueueTask({ type: "scripted", title: "waits while paused" });
      const { task: other_ } = await a.enqueueTask({ type: "cli", title: "not paused", command: "true" });
      expect((await finalStatus(a, other_.id)).status).toBe("completed");
      expect((await finalStatus(a, running.id)).status).toBe("completed"); // not stopped by the pause
      await sleep(700); // several heartbeats and wake-ups of both workers
      expect(await status(a, held.id)).toBe("pending");
      expect((await pauses.list()).map((p) => [p.task_type, p.reason])).toEqual([["scripted", "maintenance"]]);

      const started = new Promise<number>((resolve) => {
        for (const m of [a, b]) m.on("started", (task) => task.id === held.id && resolve(Date.now()));
      });
      const resumedAt = Date.now();
      expect((await pauses.resume({ types: ["scripted"] })).resumed).toEqual(["scripted"]);
      // A functional check, not a benchmark: a notification away, not a poll (5 s here).
      expect((await started) - resumedAt).toBeLessThan(2000);
      expect((await finalStatus(a, held.id)).status).toBe("completed");
    });

    it("pausing every type holds them all, also for a worker started later; resuming all lifts it", async () => {
      const pauses = new PauseService(new PauseStore(ctx.store.db), make(ctx.store).registry);
      await pauses.pause({});
      const late = make(ctx.other);
      const { task } = await late.enqueueTask({ type: "cli", title: "held", command: "true" });
      await late.start();
      await sleep(600);
      expect(await status(late, task.id)).toBe("pending");
      expect((await pauses.resume({})).resumed).toEqual(["*"]);
      expect((await finalStatus(late, task.id)).status).toBe("completed");
    });
  });
}

describe("queue pauses over HTTP", () => {
  const ctx = apiPerTest();
  const api = (path: string, body?: unknown) => ctx.http.api(path, body);

  it("pause, status and resume; a type the agent does not have is refused, naming the allowed ones; the metrics show it", async () => {
    const refused = await api("/api/queue/pause", { types: ["cli", "cluade-code"], reason: 5 });
    expect(refused.status).toBe(400);
    const { errors } = (await refused.json()) as { errors: { field: string; message: string }[] };
    expect(errors).toEqual([
      expect.objectContaining({ field: "types.1", message: "must be * (every type) or one of cli" }),
      expect.objectContaining({ field: "reason" }),
    ]);
    expect((await (await api("/api/queue/pauses")).json()) as unknown).toEqual({ pauses: [] });

    const paused = await api("/api/queue/pause", { types: ["cli"], reason: "disk full" });
    expect(paused.status).toBe(200);
    expect(((await paused.json()) as { pauses: unknown[] }).pauses).toEqual([{ taskType: "cli", reason: "disk full", pausedAt: expect.any(String) as string }]);
    expect(await (await api("/metrics")).text()).toMatch(/^ph_tasks_paused\{type="cli"\} 1$/m);
    expect((await api("/api/queue/resume", { types: ["nope"] })).status).toBe(400);
    expect((await (await api("/api/queue/resume", {})).json()) as unknown).toEqual({ resumed: ["cli"], pauses: [] });
    expect(await (await api("/metrics")).text()).not.toMatch(/^ph_tasks_paused\{/m);
  });
});
