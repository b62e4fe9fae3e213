/**
 * Named task templates over real HTTP, on PGlite and PostgreSQL: put (create, then replace), a
 * task made from one with its parameters filled in and the request's fields laid over it, every
 * problem named (a missing parameter, a template of no name, a template that makes no valid task).
 */
import type { Server } from "node:http";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApp, listen } from "../src/http/server.js";
import { silentLogger } from "../src/logger.js";
import { TemplateStore } from "../src/store/template-store.js";
import type { TaskStore } from "../src/store/task-store.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import { TemplateService } from "../src/templates/template-service.js";
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
    const call = (method: string, path: string, body?: unknown) => fetch(`${url}${path}`, { method, headers: { "Content-Type": "application/json" }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });

    beforeEach(async () => {
      ({ store, cleanup } = await backend.open());
      manager = testManager(store, {}, cliRegistry());
      const templates = new TemplateService(new TemplateStore(store.db), manager.registry);
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
      expect((await call("DELETE", "/api/templates/deploy")).status).toBe(204);
      expect((await call("DELETE", "/api/templates/deploy")).status).toBe(404);
      expect((await manager.listTasks({ limit: 10, offset: 0 })).total).toBe(0);
    });
  });
}
