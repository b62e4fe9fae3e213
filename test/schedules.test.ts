/**
 * Cron schedules on PGlite and PostgreSQL: firings at each occurrence with the template filled,
 * overlap skipped, missed occurrences collapsed, a firing taken over after its worker died without
 * a second task, paused schedules silent, and every bad field named.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { silentLogger } from "../src/logger.js";
import { Scheduler } from "../src/schedules/scheduler.js";
import { occurrenceKey, ScheduleService } from "../src/schedules/schedule-service.js";
import { ScheduleStore } from "../src/store/schedule-store.js";
import type { TaskStore } from "../src/store/task-store.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import { NameTakenError, ValidationError } from "../src/validation.js";
import { cliRegistry, testManager } from "./support/manager.js";
import { sleep, waitFor } from "./support/process.js";
import { BACKENDS } from "./support/stores.js";

const TEMPLATE = { type: "cli", title: "{{schedule.name}} at {{schedule.occurrence}}", command: "true" };

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`cron schedules on ${backend.name}`, () => {
    let store: TaskStore;
    let cleanup: () => Promise<void>;
    let manager: TaskManager;
    let schedules: ScheduleStore;
    let service: ScheduleService;
    const schedulers: Scheduler[] = [];
    const scheduler = (workerId: string, firingLeaseMs?: number) => {
      const s = new Scheduler({ store: schedules, workerId, pollMs: 100, createTask: (input, origin) => manager.enqueueTask({ ...(input as object), source: { origin } }), getTask: (id) => manager.getTask(id), logger: silentLogger(), ...(firingLeaseMs ? { firingLeaseMs } : {}) });
      schedulers.push(s);
      return s;
    };
    const tasksOf = async (scheduleId: string) => (await manager.listTasks({ limit: 500, offset: 0 })).tasks.filter((t) => t.idempotencyKey?.startsWith(`schedule:${scheduleId}:`));

    beforeEach(async () => {
      ({ store, cleanup } = await backend.open());
      // Not started: the tasks stay pending, which is what the overlap rule looks at.
      manager = testManager(store, {}, cliRegistry());
      schedules = new ScheduleStore(store.db);
      service = new ScheduleService(schedules, manager.registry);
    });
    afterEach(async () => {
      await Promise.all(schedulers.splice(0).map((s) => s.stop()));
      await cleanup();
    });

    it("makes one task per occurrence, from the template, with the occurrence's key; the schedule counts them and moves on", async () => {
      const created = await service.create({ name: "every-second", cron: "* * * * * *", task: TEMPLATE, overlap: "allow" });
      expect(created.next_fire_at?.getTime()).toBeGreaterThan(Date.now() - 1000);
      scheduler("w1").start();
      const tasks = await waitFor(async () => { const t = await tasksOf(created.id); return t.length >= 3 ? t : undefined; }, 15_000, "three firings");
      await Promise.all(schedulers.map((s) => s.stop()));
      const all = await tasksOf(created.id);
      const occurrences = all.map((t) => t.idempotencyKey?.slice(`schedule:${created.id}:`.length) ?? "");
      expect(new Set(occurrences).size).toBe(all.length); // one task per occurrence
      for (const [i, task] of all.entries()) {
        expect(occurrences[i]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
        expect(task.title).toBe(`every-second at ${occurrences[i]}`);
        expect(task.source?.origin).toBe("schedule:every-second");
        expect(task.type).toBe("cli");
      }
      expect(tasks.length).toBeGreaterThanOrEqual(3);
      const row = await schedules.get("every-second");
      expect(row?.fired_count).toBe(all.length);
      expect(row?.skipped_count).toBe(0);
      expect(all.map((t) => t.id)).toContain(row?.last_task_id);
      expect(row?.next_fire_at?.getTime()).toBeGreaterThan(new Date(occurrences.sort().at(-1) ?? "").getTime());
      expect(row?.firing_by).toBeNull();
    });

    it("overlap 'skip': while the last task is still pending, occurrences are skipped and counted, no task made", async () => {
      const created = await service.create({ name: "no-pile-up", cron: "* * * * * *", task: TEMPLATE });
      expect(created.overlap).toBe("skip");
      scheduler("w1").start();
      await waitFor(async () => ((await schedules.get(created.id))?.skipped_count ?? 0) >= 2 || undefined, 15_000, "two skipped occurrences");
      await Promise.all(schedulers.map((s) => s.stop()));
      expect(await tasksOf(created.id)).toHaveLength(1);
      const row = await schedules.get(created.id);
      expect(row?.fired_count).toBe(1);
      expect(row?.last_error).toMatch(/still pending/);
    });

    it("occurrences missed while no worker ran make one task, and the schedule continues from now", async () => {
      const created = await service.create({ name: "missed", cron: "*/5 * * * *", task: TEMPLATE });
      // Set in SQL: microseconds, which a JavaScript Date does not keep.
      await store.db.query("UPDATE ph_schedules SET next_fire_at = now() - interval '1 hour' WHERE id = $1", [created.id]);
      const hourAgo = (await schedules.get(created.id))?.next_fire_at ?? new Date();
      scheduler("w1").start();
      await waitFor(async () => ((await schedules.get(created.id))?.fired_count ?? 0) >= 1 || undefined, 5000, "the catch-up firing");
      await sleep(400);
      const tasks = await tasksOf(created.id);
      expect(tasks).toHaveLength(1);
      expect(tasks[0]?.idempotencyKey).toBe(occurrenceKey(created.id, hourAgo));
      const next = (await schedules.get(created.id))?.next_fire_at;
      expect(next?.getTime()).toBeGreaterThan(Date.now());
      expect(next?.getTime()).toBeLessThanOrEqual(Date.now() + 5 * 60_000);
    });

    it("a worker that died mid-firing: another fires the occurrence after the claim lapses, and finds the task already made", async () => {
      const created = await service.create({ name: "taken-over", cron: "0 0 1 1 *", task: TEMPLATE });
      const due = new Date(Date.now() - 1000);
      await store.db.query("UPDATE ph_schedules SET next_fire_at = $2 WHERE id = $1", [created.id, due]);
      // The dead worker: claimed the firing and made the task, never moved the schedule on.
      const claimed = await schedules.claimDue("dead-worker", 300, 10);
      expect(claimed.map((s) => s.id)).toEqual([created.id]);
      const made = await manager.enqueueTask({ ...TEMPLATE, title: "made by the dead worker", idempotencyKey: occurrenceKey(created.id, due) });
      // A live worker at once: the claim still holds.
      expect(await schedules.claimDue("live-worker", 300, 10)).toEqual([]);
      scheduler("live-worker", 300).start();
      await waitFor(async () => ((await schedules.get(created.id))?.fired_count ?? 0) >= 1 || undefined, 5000, "the takeover");
      const tasks = await tasksOf(created.id);
      expect(tasks.map((t) => t.id)).toEqual([made.task.id]);
      const row = await schedules.get(created.id);
      expect(row?.last_task_id).toBe(made.task.id);
      expect(row?.next_fire_at?.getUTCMonth()).toBe(0); // the next 1 January
      // The dead worker coming back cannot move the schedule again.
      expect(await schedules.finishFiring("dead-worker", { id: created.id, occurrence: due, next: null, outcome: "fired", taskId: made.task.id, error: null })).toBeUndefined();
    });

    it("a paused schedule does not fire; resumed, it goes on from the next occurrence after now", async () => {
      const created = await service.create({ name: "paused", cron: "* * * * * *", task: TEMPLATE, enabled: false, overlap: "allow" });
      expect(created.next_fire_at).toBeNull();
      scheduler("w1").start();
      await sleep(1500);
      expect(await tasksOf(created.id)).toHaveLength(0);
      const resumed = await service.update("paused", { enabled: true });
      expect(resumed?.next_fire_at?.getTime()).toBeGreaterThan(Date.now() - 1000);
      await waitFor(async () => (await tasksOf(created.id)).length >= 1 || undefined, 5000, "a firing after resume");
      const paused = await service.update(created.id, { enabled: false });
      expect(paused?.next_fire_at).toBeNull();
    });

    it("names every bad field: name, cron, time zone, overlap, the task template; a taken name is a conflict", async () => {
      const error = await service.create({ name: "Bad Name!", cron: "61 * * * *", timezone: "Mars/Olympus", overlap: "sometimes", task: { type: "cli", title: "x" } }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      const fields = (error as ValidationError).errors.map((e) => e.field).sort();
      expect(fields).toEqual(["cron", "name", "overlap", "timezone"]);
      const cron = (await service.create({ name: "ok", cron: "61 * * * *", task: TEMPLATE }).catch((e: unknown) => e)) as ValidationError;
      expect(cron.errors).toEqual([expect.objectContaining({ field: "cron", value: '"61 * * * *"', message: expect.stringMatching(/minute/) })]);
      const never = (await service.create({ name: "ok", cron: "0 0 31 2 *", task: TEMPLATE }).catch((e: unknown) => e)) as ValidationError;
      expect(never.errors[0]?.message).toMatch(/no future occurrence/);
      const task = (await service.create({ name: "ok", cron: "@daily", task: { type: "cli", title: "no command" } }).catch((e: unknown) => e)) as ValidationError;
      expect(task.errors.map((e) => e.field)).toEqual(["task.command"]);
      // One every occurrence of which this agent's policy would refuse: refused now (admission).
      const outside = (await service.create({ name: "ok", cron: "@daily", task: { type: "cli", title: "x", command: "ls", workingDirectory: "/etc" } }).catch((e: unknown) => e)) as ValidationError;
      expect(outside.errors).toEqual([expect.objectContaining({ field: "task.workingDirectory", value: '"/etc"', message: expect.stringContaining("outside the allowed roots") })]);
      const unknownType = (await service.create({ name: "ok", cron: "@daily", task: { type: "nope", title: "x" } }).catch((e: unknown) => e)) as ValidationError;
      expect(unknownType.errors[0]?.field).toBe("task.type");
      const key = (await service.create({ name: "ok", cron: "@daily", task: { ...TEMPLATE, idempotencyKey: "mine" } }).catch((e: unknown) => e)) as ValidationError;
      expect(key.errors[0]?.field).toBe("task.idempotencyKey");
      await service.create({ name: "taken", cron: "@daily", task: TEMPLATE });
      await expect(service.create({ name: "taken", cron: "@hourly", task: TEMPLATE })).rejects.toBeInstanceOf(NameTakenError);
      await service.create({ name: "other", cron: "@daily", task: TEMPLATE });
      await expect(service.update("other", { name: "taken" })).rejects.toBeInstanceOf(NameTakenError);
      expect((await service.list()).map((s) => s.name)).toEqual(["other", "taken"]);
    });
  });
}
