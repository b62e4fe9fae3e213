/**
 * Named task templates over real HTTP, on PGlite and PostgreSQL: put (create, then replace), a
 * task made from one with its parameters filled in and the request's fields laid over it, every
 * problem named (a missing parameter, a template of no name, a template that makes no valid task);
 * schedules and hooks that name a template instead of holding a task, checked when saved and
 * expanded at each firing or delivery (so a change to the template reaches them).
 */
import type { Server } from "node:http";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApp, listen } from "../src/http/server.js";
import { silentLogger } from "../src/logger.js";
import { TemplateStore } from "../src/store/template-store.js";
import type { TaskStore } from "../src/store/task-store.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import { TemplateService } from "../src/templates/template-service.js";
import { HookReceiver, signBody } from "../src/hooks/hook-receiver.js";
import { HookService } from "../src/hooks/hook-service.js";
import { Scheduler } from "../src/schedules/scheduler.js";
import { ScheduleService } from "../src/schedules/schedule-service.js";
import { HookStore } from "../src/store/hook-store.js";
import { ScheduleStore } from "../src/store/schedule-store.js";
import { ValidationError } from "../src/validation.js";
import { waitFor } from "./support/process.js";
import { cliRegistry, testManager } from "./support/manager.js";
import { BACKENDS } from "./support/stores.js";

const DEPLOY = { type: "cli", title: "deploy to {{params.env}}", command: "echo", args: ["deploy", "{{params.env}}", "--replicas={{params.replicas}}"], priority: 70 };

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`task templates on ${backend.name}`, () => {
    let store: TaskStore;
    let cleanup: () => Promise<void>;
    let manager: TaskManager;
    let server: Server;
    let url: string;
    let templates: TemplateService;
    const call = (method: string, path: string, body?: unknown) => fetch(`${url}${path}`, { method, headers: { "Content-Type": "application/json" }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });

    beforeEach(async () => {
      ({ store, cleanup } = await backend.open());
      manager = testManager(store, {}, cliRegistry());
      templates = new TemplateService(new TemplateStore(store.db), manager.registry);
      ({ server, url } = await listen(createApp({ manager, metrics: manager.metrics!, logger: silentLogger(), templates }), "127.0.0.1", 0, undefined));
    });
    afterEach(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await cleanup();
    });

    it("put creates (201) then replaces (200); a task names it with params and overrides", async () => {
      const created = await call("PUT", "/api/templates/deploy", { description: "ship it", task: { ...DEPLOY, priority: 10 } });
      expect(created.status).toBe(201);
      const replaced = await call("PUT", "/api/templates/deploy", { description: "ship it", task: DEPLOY });
      expect(replaced.status).toBe(200);
      const { template } = (await replaced.json()) as { template: { params: string[]; task: { priority: number } } };
      expect(template.params).toEqual(["env", "replicas"]);
      expect(template.task.priority).toBe(70);

      const res = await call("POST", "/api/tasks", { template: "deploy", params: { env: "prod", replicas: 3 }, title: "deploy now", maxAttempts: 1 });
      expect(res.status).toBe(201);
      const { task } = (await res.json()) as { task: { id: string } };
      expect(await manager.getTask(task.id)).toMatchObject({ type: "cli", title: "deploy now", command: "echo", args: ["deploy", "prod", "--replicas=3"], priority: 70, maxAttempts: 1 });
      const { templates } = (await (await call("GET", "/api/templates")).json()) as { templates: { name: string }[] };
      expect(templates.map((t) => t.name)).toEqual(["deploy"]);
    });

    it("names every problem: a missing parameter, no such template, a template that makes no valid task", async () => {
      await call("PUT", "/api/templates/deploy", { task: DEPLOY });
      const missing = await call("POST", "/api/tasks", { template: "deploy", params: { env: "prod" } });
      expect(missing.status).toBe(400);
      expect(((await missing.json()) as { errors: { field: string; message: string }[] }).errors).toEqual([{ field: "params.replicas", message: "is used by template 'deploy' and missing" }]);
      const unknown = await call("POST", "/api/tasks", { template: "nope", params: {} });
      expect(((await unknown.json()) as { errors: { field: string; value: string }[] }).errors).toEqual([expect.objectContaining({ field: "template", value: '"nope"' })]);
      const bad = await call("PUT", "/api/templates/Bad!", { task: { type: "cli", title: "x" }, extra: 1 });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { errors: { field: string }[] }).errors.map((e) => e.field).sort()).toEqual(["(root)", "name"]);
      const noCommand = await call("PUT", "/api/templates/broken", { task: { type: "cli", title: "x" } });
      expect(((await noCommand.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual(["task.command"]);
      // The policy (admission) on what is written out in full: a directory outside the roots is
      // refused when saved; one filled in by a placeholder is checked when a task is made of it.
      const outside = await call("PUT", "/api/templates/outside", { task: { type: "cli", title: "x", command: "ls", workingDirectory: "/etc" } });
      expect(outside.status).toBe(400);
      expect(((await outside.json()) as { errors: { field: string; value: string }[] }).errors).toEqual([expect.objectContaining({ field: "task.workingDirectory", value: '"/etc"' })]);
      expect((await call("PUT", "/api/templates/anywhere", { task: { type: "cli", title: "x", command: "ls", workingDirectory: "{{params.dir}}" } })).status).toBe(201);
      const filled = await call("POST", "/api/tasks", { template: "anywhere", params: { dir: "/etc" } });
      expect(filled.status).toBe(400);
      expect(((await filled.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual(["workingDirectory"]);
      expect((await call("DELETE", "/api/templates/anywhere")).status).toBe(204);
      expect((await call("DELETE", "/api/templates/deploy")).status).toBe(204);
      expect((await call("DELETE", "/api/templates/deploy")).status).toBe(404);
      expect((await manager.listTasks({ limit: 10, offset: 0 })).total).toBe(0);
    });

    it("schedules and hooks may name a template: checked when saved, expanded at each firing and delivery", async () => {
      await call("PUT", "/api/templates/deploy", { task: DEPLOY });
      const expand = (input: unknown) => templates.expand(input);
      const createTask = async (input: unknown, origin: string) => manager.enqueueTask({ ...((await expand(input)) as object), source: { origin } });
      const schedules = new ScheduleService(new ScheduleStore(store.db), manager.registry, () => undefined, expand);
      const hookStore = new HookStore(store.db);
      const hooks = new HookService(hookStore, manager.registry, expand);

      // Refused when saved: no such template, a parameter left out, a value that makes no valid task.
      const refusal = async (save: Promise<unknown>) => {
        const error = await save.then(() => undefined, (e: unknown) => e);
        expect(error).toBeInstanceOf(ValidationError);
        return (error as ValidationError).errors.map((e) => [e.field, e.message]);
      };
      expect(await refusal(schedules.create({ name: "s1", cron: "@daily", task: { template: "nope" } }))).toEqual([["task.template", "names no template"]]);
      expect(await refusal(schedules.create({ name: "s1", cron: "@daily", task: { template: "deploy", params: { env: "prod" } } }))).toEqual([["task.params.replicas", "is used by template 'deploy' and missing"]]);
      expect(await refusal(schedules.create({ name: "s1", cron: "@daily", task: { template: "deploy", params: { env: "prod", replicas: 1 }, priority: 1000 } }))).toEqual([["task.priority", expect.any(String)]]);
      expect(await refusal(hooks.create({ name: "h1", task: { template: "deploy", params: { env: "{{body.env}}" } } }))).toEqual([["task.params.replicas", "is used by template 'deploy' and missing"]]);
      expect(await refusal(hooks.create({ name: "h1", task: { template: "deploy", params: {}, idempotencyKey: "x" } }))).toEqual([["task.idempotencyKey", expect.any(String)]]);

      // A schedule naming it: each firing expands the template with the firing's values.
      const schedule = await schedules.create({ name: "every-second", cron: "* * * * * *", overlap: "allow", task: { template: "deploy", params: { env: "{{schedule.name}}", replicas: 2 } } });
      const scheduler = new Scheduler({ store: new ScheduleStore(store.db), workerId: "w1", pollMs: 100, createTask, getTask: (id) => manager.getTask(id), logger: silentLogger() });
      scheduler.start();
      try {
        const fired = await waitFor(async () => (await manager.listTasks({ limit: 50, offset: 0 })).tasks.find((t) => t.source?.origin === "schedule:every-second"), 10_000, "a firing");
        expect(fired).toMatchObject({ type: "cli", title: "deploy to every-second", args: ["deploy", "every-second", "--replicas=2"], priority: 70 });
        expect(fired.idempotencyKey).toMatch(new RegExp(`^schedule:${schedule.id}:`));
        // The template changes: the next firings follow it.
        await call("PUT", "/api/templates/deploy", { task: { ...DEPLOY, title: "ship {{params.env}}" } });
        await waitFor(async () => (await manager.listTasks({ limit: 50, offset: 0 })).tasks.find((t) => t.title === "ship every-second"), 10_000, "a firing of the changed template");
      } finally {
        await scheduler.stop();
      }

      // A hook naming it: the delivery's values go into the params, keeping their type.
      const hook = await hooks.create({ name: "deploys", task: { template: "deploy", params: { env: "{{body.env}}", replicas: "{{body.replicas}}" }, maxAttempts: 1 } });
      const receiver = new HookReceiver(hookStore, createTask, silentLogger());
      const body = JSON.stringify({ env: "staging", replicas: 4 });
      const answer = await receiver.receive("deploys", { rawBody: Buffer.from(body), headers: { "content-type": "application/json", "x-signature-256": signBody(hook.secret, body) }, query: {} });
      expect(answer.status).toBe(202);
      const made = await manager.getTask((answer.body as { task: { id: string } }).task.id);
      expect(made).toMatchObject({ title: "ship staging", args: ["deploy", "staging", "--replicas=4"], maxAttempts: 1, source: { origin: "hook:deploys" } });
      // Its preview expands the template the same way, and names what a delivery without env breaks.
      expect(await hooks.preview("deploys", { body: { env: "prod", replicas: 2 } })).toMatchObject({ errors: [], task: { title: "ship prod", args: ["deploy", "prod", "--replicas=2"], maxAttempts: 1 } });
      const wrong = await hooks.preview("deploys", { body: {} });
      expect(wrong).toMatchObject({ task: { args: ["deploy", null, "--replicas="] }, errors: [{ field: "args.1", message: "Invalid input: expected string, received null" }] });
      // The template removed: a delivery is refused with the reason, nothing is made.
      await call("DELETE", "/api/templates/deploy");
      const refused = await receiver.receive("deploys", { rawBody: Buffer.from(body), headers: { "content-type": "application/json", "x-signature-256": signBody(hook.secret, body) }, query: {} });
      expect(refused).toMatchObject({ status: 400, body: { errors: [{ field: "template", message: "names no template" }] } });
    });
  });
}
