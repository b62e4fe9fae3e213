/**
 * Cron schedules and inbound hooks that make pipelines, on PGlite and PostgreSQL, over real HTTP:
 * each firing makes one pipeline (its placeholders filled, the occurrence's idempotency key, the
 * schedule as origin), overlap "skip" skips occurrences while the last pipeline goes on; each
 * signed delivery makes one (a repeated delivery id: the same one, also while the hook's window is
 * full), its preview checks it whole; a schedule or hook whose pipeline would be refused is refused
 * when saved, naming the field under task.pipeline.
 */
import type { Server } from "node:http";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HookReceiver } from "../src/hooks/hook-receiver.js";
import { HookRateLimit } from "../src/hooks/hook-rate-limit.js";
import { HookService } from "../src/hooks/hook-service.js";
import { signBody } from "../src/hooks/signing.js";
import { createApp, listen } from "../src/http/server.js";
import { silentLogger } from "../src/logger.js";
import { PipelineService } from "../src/pipelines/pipeline-service.js";
import { Scheduler } from "../src/schedules/scheduler.js";
import { occurrenceKey, ScheduleService } from "../src/schedules/schedule-service.js";
import { HookStore } from "../src/store/hook-store.js";
import { PipelineStore } from "../src/store/pipeline-store.js";
import { RateLimitStore } from "../src/store/rate-limit-store.js";
import { ScheduleStore } from "../src/store/schedule-store.js";
import type { TaskStore } from "../src/store/task-store.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import { cliRegistry, testManager } from "./support/manager.js";
import { waitFor } from "./support/process.js";
import { BACKENDS } from "./support/stores.js";

const sleepStep = (title: string, ms: number) => ({ type: "cli", title, command: process.execPath, args: ["-e", `setTimeout(() => {}, ${ms})`], maxAttempts: 1 });

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`schedules and hooks that make pipelines on ${backend.name}`, () => {
    let store: TaskStore;
    let cleanup: () => Promise<void>;
    let manager: TaskManager;
    let pipelines: PipelineService;
    let scheduler: Scheduler;
    let hooks: HookService;
    let receiver: HookReceiver;
    let server: Server;
    let url: string;
    const call = async (method: string, route: string, body?: unknown) => {
      const res = await fetch(`${url}${route}`, { method, headers: { "Content-Type": "application/json" }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

    beforeEach(async () => {
      ({ store, cleanup } = await backend.open());
      manager = testManager(store, { maxConcurrent: 4 }, cliRegistry());
      pipelines = new PipelineService(new PipelineStore(store.db), manager, (inputs, { origin, ...rest }) => manager.enqueueTasks(inputs.map((input) => ({ ...(input as object), source: { origin } })), rest));
      const scheduleStore = new ScheduleStore(store.db);
      scheduler = new Scheduler({
        store: scheduleStore,
        workerId: manager.workerId,
        pollMs: 100,
        createTask: (input, origin) => manager.enqueueTask({ ...(input as object), source: { origin } }),
        createPipeline: async (input, origin) => (await pipelines.create(input, origin)).pipeline,
        getTask: async (id) => (await manager.getTask(id)) ?? (await pipelines.get(id)),
        logger: silentLogger(),
      });
      const schedules = new ScheduleService(scheduleStore, manager.registry, () => scheduler.wake());
      const hookStore = new HookStore(store.db);
      hooks = new HookService(hookStore, manager.registry);
      receiver = new HookReceiver(hookStore, (input, origin) => manager.enqueueTask({ ...(input as object), source: { origin } }), silentLogger(), undefined, { rateLimit: new HookRateLimit(new RateLimitStore(store.db, "hook")), pipelines });
      ({ server, url } = await listen(createApp({ manager, metrics: manager.metrics!, logger: silentLogger(), schedules, pipelines, hooks: { service: hooks, receiver } }), "127.0.0.1", 0, undefined));
      await manager.start();
      scheduler.start();
    });
    afterEach(async () => {
      await scheduler.stop();
      await manager.stop(0);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await cleanup();
    });

    it("each firing makes one pipeline, filled in, keyed by its occurrence; occurrences are skipped while it goes on", async () => {
      const created = await call("POST", "/api/schedules", {
        name: "nightly",
        cron: "* * * * * *",
        task: { pipeline: { title: "nightly {{schedule.occurrence}}", steps: [{ name: "build", task: sleepStep("build {{schedule.name}}", 1500) }, { name: "ship", after: ["build"], task: sleepStep("ship", 0) }] } },
      });
      expect(created.status).toBe(201);
      const first = await waitFor(async () => {
        const { pipelines: listed } = (await call("GET", "/api/pipelines")).body as { pipelines: { id: string; title: string; origin: string; idempotencyKey: string; status: string; steps: { task: { title: string; source?: { origin?: string } } }[] }[] };
        return listed[0];
      }, 10_000, "the first firing's pipeline");
      const occurrence = /^nightly (\S+)$/.exec(first.title)?.[1] ?? "";
      expect(Number.isNaN(Date.parse(occurrence))).toBe(false);
      expect(first.origin).toBe("schedule:nightly");
      expect(first.idempotencyKey).toBe(occurrenceKey((created.body.schedule as { id: string }).id, new Date(occurrence)));
      expect(first.steps[0]?.task.title).toBe("build nightly");
      expect(first.steps[0]?.task.source?.origin).toBe("schedule:nightly");
      // Fired every second, but the pipeline runs for over 1.5 s: the occurrences meanwhile are skipped.
      const skipped = await waitFor(async () => {
        const { schedule } = (await call("GET", "/api/schedules/nightly")).body as { schedule: { skippedCount: number; lastPipelineId: string | null; lastTaskId: string | null; lastError: string | null } };
        return schedule.skippedCount >= 1 ? schedule : undefined;
      }, 10_000, "a skipped occurrence");
      expect(skipped.lastPipelineId).toBe(first.id);
      expect(skipped.lastTaskId).toBeNull();
      expect(skipped.lastError).toMatch(new RegExp(`pipeline ${first.id} of the last firing is still (pending|running)`));
      // Once it ended, the next occurrence makes the next pipeline.
      await waitFor(async () => ((await call("GET", "/api/pipelines")).body.pipelines as unknown[]).length >= 2 || undefined, 15_000, "a second pipeline");
      expect(((await call("GET", `/api/pipelines/${first.id}`)).body.pipeline as { status: string }).status).toBe("completed");
    });

    it("a schedule whose pipeline would be refused is refused when saved, naming the field", async () => {
      const refused = async (task: unknown) => {
        const res = await call("POST", "/api/schedules", { name: "bad", cron: "@daily", task });
        expect(res.status).toBe(400);
        return (res.body.errors as { field: string }[]).map((e) => e.field);
      };
      const steps = [{ name: "a", task: sleepStep("a", 0) }];
      expect(await refused({ pipeline: { title: "x", steps: [{ name: "a", after: ["zz"], task: sleepStep("a", 0) }] } })).toEqual(["task.pipeline.steps.0.after.0"]);
      expect(await refused({ pipeline: { title: "x", steps: [{ name: "a", task: { type: "cli", title: "a" } }] } })).toEqual(["task.pipeline.steps.0.task.command"]);
      expect(await refused({ pipeline: { title: "x", steps, idempotencyKey: "k" } })).toEqual(["task.pipeline.idempotencyKey"]);
      expect(await refused({ pipeline: { title: "x", steps }, type: "cli" })).toEqual(["task.type"]);
      expect(((await call("GET", "/api/schedules")).body.schedules as unknown[]).length).toBe(0);
    });

    it("each signed delivery makes a pipeline from the body; a repeated delivery id is the same one, also with the window full", async () => {
      const created = await call("POST", "/api/hooks", {
        name: "releases",
        rateLimit: { max: 1, per: "1h" },
        task: { pipeline: { title: "release {{body.version}}", steps: [{ name: "build", task: { ...sleepStep("build", 0), title: "build {{body.version}}" } }, { name: "ship", after: ["build"], task: sleepStep("ship", 0) }] } },
      });
      expect(created.status).toBe(201);
      const secret = (created.body.hook as { secret: string }).secret;
      const deliver = async (payload: unknown, id: string) => {
        const body = JSON.stringify(payload);
        const res = await fetch(`${url}/hooks/releases`, { method: "POST", headers: { "Content-Type": "application/json", "X-Signature-256": signBody(secret, body), "X-Delivery-Id": id }, body });
        return { status: res.status, body: (await res.json()) as { pipeline?: { id: string; status: string }; task?: unknown; created?: boolean } };
      };
      const first = await deliver({ version: "2.1" }, "d-1");
      expect(first.status).toBe(202);
      expect(first.body.task).toBeUndefined();
      const id = first.body.pipeline?.id ?? "";
      const pipeline = (await call("GET", `/api/pipelines/${id}`)).body.pipeline as { title: string; origin: string; idempotencyKey: string; steps: { task: { title: string } }[] };
      expect(pipeline).toMatchObject({ title: "release 2.1", origin: "hook:releases", idempotencyKey: `hook:${(created.body.hook as { id: string }).id}:d-1` });
      expect(pipeline.steps[0]?.task.title).toBe("build 2.1");
      // The same delivery again: the same pipeline (200), though the hour's one start is used.
      const again = await deliver({ version: "2.1" }, "d-1");
      expect([again.status, again.body.pipeline?.id, again.body.created]).toEqual([200, id, false]);
      const other = await deliver({ version: "2.2" }, "d-2");
      expect(other.status).toBe(429);
      const { hook } = (await call("GET", "/api/hooks/releases")).body as { hook: { lastPipelineId: string | null; lastTaskId: string | null } };
      expect([hook.lastPipelineId, hook.lastTaskId]).toEqual([id, null]);
      // A preview checks the pipeline such a delivery would make, and names what breaks it.
      const preview = await call("POST", "/api/hooks/releases/preview", { body: { version: "3" } });
      expect(preview.body).toMatchObject({ valid: true, task: { pipeline: { title: "release 3" } } });
      expect(((await call("GET", "/api/pipelines")).body.pipelines as unknown[]).length).toBe(1);
    });

    it("a hook whose pipeline would be refused is refused when saved, naming the field; a delivery that breaks it is a 400 with nothing made", async () => {
      const refused = async (task: unknown) => {
        const res = await call("POST", "/api/hooks", { name: "bad", task });
        expect(res.status).toBe(400);
        return (res.body.errors as { field: string }[]).map((e) => e.field);
      };
      expect(await refused({ pipeline: { title: "x", steps: [{ name: "a", after: ["a"], task: sleepStep("a", 0) }] } })).toEqual(["task.pipeline.steps.0.after.0"]);
      expect(await refused({ pipeline: { title: "x", steps: [{ name: "a", task: { type: "cli", title: "{{body.t}}" } }] } })).toEqual(["task.pipeline.steps.0.task.command"]);
      expect(await refused({ pipeline: { title: "x", steps: [{ name: "a", task: sleepStep("a", 0) }] }, priority: 3 })).toEqual(["task.priority"]);
      // Placeholders that take the delivery's value pass when saved; a delivery without it is refused.
      const created = await call("POST", "/api/hooks", { name: "cmd", task: { pipeline: { title: "x", steps: [{ name: "a", task: { type: "cli", title: "a", command: "{{body.command}}" } }] } } });
      expect(created.status).toBe(201);
      const body = JSON.stringify({});
      const res = await fetch(`${url}/hooks/cmd`, { method: "POST", headers: { "Content-Type": "application/json", "X-Signature-256": signBody((created.body.hook as { secret: string }).secret, body) }, body });
      expect(res.status).toBe(400);
      const answer = (await res.json()) as { message: string; errors: { field: string }[] };
      expect(answer.message).toBe("the pipeline this delivery makes is invalid");
      expect(answer.errors.map((e) => e.field)).toEqual(["steps.0.task.command"]);
      expect(((await call("GET", "/api/pipelines")).body.pipelines as unknown[]).length).toBe(0);
      expect((await manager.listTasks({ limit: 10, offset: 0 })).total).toBe(0);
    });
  });
}
