/**
 * Inbound webhooks over real HTTP, on PGlite and PostgreSQL: a signed delivery makes a task from
 * the hook's template; a bad or missing signature, a disabled or unknown hook, bad JSON and a task
 * the body makes invalid are refused and counted; a repeated delivery id makes no second task, also
 * when two workers sharing PostgreSQL receive it at the same instant.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { signBody } from "../src/hooks/hook-receiver.js";
import { TaskStore } from "../src/store/task-store.js";
import { BACKENDS, dropSchema, postgresAvailable, TEST_DATABASE_URL, uniqueSchema } from "./support/stores.js";
import { HOOK_API_TOKEN, startHookAgent, stopHookAgent, type HookAgent } from "./support/hook-agent.js";

const TOKEN = HOOK_API_TOKEN;
const TEMPLATE = { type: "cli", title: "deploy {{body.ref}} by {{headers.x-sender}}", command: "echo", args: ["{{body.ref}}", "env={{query.env}}"] };

type Worker = HookAgent;
const startWorker = startHookAgent;
const stopWorker = stopHookAgent;

function deliver(url: string, name: string, body: string, options: { secret?: string; signature?: string; headers?: Record<string, string>; query?: string } = {}) {
  const signature = options.signature ?? (options.secret ? signBody(options.secret, body) : undefined);
  return fetch(`${url}/hooks/${name}${options.query ?? ""}`, { method: "POST", headers: { "Content-Type": "application/json", ...(signature ? { "X-Signature-256": signature } : {}), ...options.headers }, body });
}

const api = (url: string, path: string, init: RequestInit = {}) => fetch(`${url}${path}`, { ...init, headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json", ...init.headers } });

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`inbound webhooks on ${backend.name}`, () => {
    let worker: Worker;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      const opened = await backend.open();
      cleanup = opened.cleanup;
      worker = await startWorker(opened.store);
    });
    afterEach(async () => {
      await stopWorker(worker);
      await cleanup();
    });

    it("a signed delivery makes the template's task; the secret is shown once; counts and last task kept", async () => {
      const created = await api(worker.url, "/api/hooks", { method: "POST", body: JSON.stringify({ name: "deploy", task: TEMPLATE }) });
      expect(created.status).toBe(201);
      const { hook } = (await created.json()) as { hook: { secret: string; path: string } };
      expect(hook.secret.length).toBeGreaterThanOrEqual(32);
      expect(hook.path).toBe("/hooks/deploy");
      const listed = (await (await api(worker.url, "/api/hooks/deploy")).json()) as { hook: Record<string, unknown> };
      expect(listed.hook).not.toHaveProperty("secret");

      // Delivered without the API token: the signature is what counts.
      const res = await deliver(worker.url, "deploy", JSON.stringify({ ref: "v1.2.3" }), { secret: hook.secret, headers: { "X-Sender": "ci", Authorization: "Bearer not-for-templates" }, query: "?env=prod" });
      expect(res.status).toBe(202);
      const { task, created: made } = (await res.json()) as { task: { id: string }; created: boolean };
      expect(made).toBe(true);
      const stored = await worker.manager.getTask(task.id);
      expect(stored).toMatchObject({ type: "cli", title: "deploy v1.2.3 by ci", command: "echo", args: ["v1.2.3", "env=prod"], source: { origin: "hook:deploy" } });
      const after = (await (await api(worker.url, "/api/hooks/deploy")).json()) as { hook: { receivedCount: number; rejectedCount: number; lastTaskId: string } };
      expect(after.hook).toMatchObject({ receivedCount: 1, rejectedCount: 0, lastTaskId: task.id });
    });

    it("refuses what it must, and counts it: bad or missing signature, unknown or disabled hook, bad JSON, a task the body makes invalid", async () => {
      const { hook } = (await (await api(worker.url, "/api/hooks", { method: "POST", body: JSON.stringify({ name: "strict", task: { type: "cli", title: "{{body.title}}", command: "echo" }, secret: "s".repeat(20) }) })).json()) as { hook: { secret: string } };
      const body = JSON.stringify({ title: "ok" });
      const unsigned = await deliver(worker.url, "strict", body);
      expect(unsigned.status).toBe(401);
      expect(((await unsigned.json()) as { message: string }).message).toMatch(/missing X-Signature-256/);
      const forged = await deliver(worker.url, "strict", body, { secret: "t".repeat(20) });
      expect(forged.status).toBe(401);
      expect(((await forged.json()) as { message: string }).message).toMatch(/does not match/);
      // Signed, then changed on the way.
      expect((await deliver(worker.url, "strict", JSON.stringify({ title: "evil" }), { signature: signBody(hook.secret, body) })).status).toBe(401);
      expect((await deliver(worker.url, "nope", body, { secret: hook.secret })).status).toBe(404);
      const badJson = await deliver(worker.url, "strict", "{not json", { secret: hook.secret });
      expect(badJson.status).toBe(400);
      expect(((await badJson.json()) as { message: string }).message).toMatch(/not valid JSON/);
      const invalid = await deliver(worker.url, "strict", JSON.stringify({ title: "" }), { secret: hook.secret });
      expect(invalid.status).toBe(400);
      expect(((await invalid.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual(["title"]);
      expect((await api(worker.url, "/api/hooks/strict", { method: "PATCH", body: JSON.stringify({ enabled: false }) })).status).toBe(200);
      expect((await deliver(worker.url, "strict", body, { secret: hook.secret })).status).toBe(404);
      const row = (await (await api(worker.url, "/api/hooks/strict")).json()) as { hook: { receivedCount: number; rejectedCount: number; lastError: string } };
      expect(row.hook).toMatchObject({ receivedCount: 0, rejectedCount: 5 });
      expect((await worker.manager.listTasks({ limit: 10, offset: 0 })).tasks).toHaveLength(0);
    });

    it("a repeated delivery id makes no second task (Idempotency-Key, X-GitHub-Delivery); without one each delivery is a task", async () => {
      const { hook } = (await (await api(worker.url, "/api/hooks", { method: "POST", body: JSON.stringify({ name: "gh", task: TEMPLATE }) })).json()) as { hook: { secret: string } };
      const body = JSON.stringify({ ref: "main" });
      const first = await deliver(worker.url, "gh", body, { secret: hook.secret, headers: { "X-GitHub-Delivery": "72d3162e-cc78-11e3" } });
      const again = await deliver(worker.url, "gh", body, { secret: hook.secret, headers: { "X-GitHub-Delivery": "72d3162e-cc78-11e3" } });
      expect([first.status, again.status]).toEqual([202, 200]);
      const a = (await first.json()) as { task: { id: string } };
      const b = (await again.json()) as { task: { id: string }; created: boolean };
      expect(b).toMatchObject({ task: { id: a.task.id }, created: false });
      await deliver(worker.url, "gh", body, { secret: hook.secret });
      await deliver(worker.url, "gh", body, { secret: hook.secret });
      expect((await worker.manager.listTasks({ limit: 10, offset: 0 })).tasks).toHaveLength(3);
    });

    it("preview: the task a delivery would make, filled and checked, none made; credentials are not filled in; invalid fields named", async () => {
      await api(worker.url, "/api/hooks", { method: "POST", body: JSON.stringify({ name: "deploy", task: TEMPLATE }) });
      const preview = async (input: unknown, name = "deploy") => {
        const res = await api(worker.url, `/api/hooks/${name}/preview`, { method: "POST", body: JSON.stringify(input) });
        return { status: res.status, json: (await res.json()) as { task: Record<string, unknown>; valid: boolean; errors: { field: string; message: string }[] } };
      };
      const good = await preview({ body: { ref: "v9" }, headers: { "X-Sender": "ci", Authorization: "Bearer secret-of-the-sender" }, query: { env: "prod" } });
      expect(good.status).toBe(200);
      expect(good.json).toMatchObject({ valid: true, errors: [], task: { type: "cli", title: "deploy v9 by ci", command: "echo", args: ["v9", "env=prod"] } });
      expect(JSON.stringify(good.json)).not.toContain("secret-of-the-sender");
      // The sender's name comes from the headers; without it the title has a gap, not an error.
      await api(worker.url, "/api/hooks", { method: "POST", body: JSON.stringify({ name: "titled", task: { type: "cli", title: "{{body.title}}", command: "echo", timeoutMs: "{{body.timeout}}" } }) });
      const bad = await preview({ body: { title: "", timeout: "soon" } }, "titled");
      expect(bad.status).toBe(200);
      expect(bad.json.valid).toBe(false);
      expect(bad.json.errors.map((e) => e.field).sort()).toEqual(["timeoutMs", "title"]);
      expect((await preview({ body: {} }, "nope")).status).toBe(404);
      const malformed = await preview({ headers: { "X-Count": 3 } });
      expect(malformed.status).toBe(400);
      expect(JSON.stringify(malformed.json)).toContain("headers.X-Count");
      expect((await worker.manager.listTasks({ limit: 10, offset: 0 })).tasks).toHaveLength(0);
    });

    it("hostile deliveries: a body value that looks like a placeholder is not expanded, __proto__ pollutes nothing, 2 MB is refused", async () => {
      const { hook } = (await (await api(worker.url, "/api/hooks", { method: "POST", body: JSON.stringify({ name: "hostile", task: { type: "cli", title: "{{body.title}}", command: "echo", args: ["{{body.arg}}"] } }) })).json()) as { hook: { secret: string } };
      const body = `{"title":"{{headers.authorization}} {{hook.id}}","arg":"{{body.title}}","__proto__":{"polluted":"yes"}}`;
      const res = await deliver(worker.url, "hostile", body, { secret: hook.secret, headers: { Authorization: "Bearer secret-of-the-sender" } });
      expect(res.status).toBe(202);
      const { task } = (await res.json()) as { task: { id: string } };
      const stored = await worker.manager.getTask(task.id);
      // Filled once: what the sender sent stays text, it is not read as a template again.
      expect(stored).toMatchObject({ title: "{{headers.authorization}} {{hook.id}}", args: ["{{body.title}}"] });
      expect(JSON.stringify(stored)).not.toContain("secret-of-the-sender");
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      const huge = await deliver(worker.url, "hostile", JSON.stringify({ title: "x".repeat(2 * 1024 * 1024) }), { secret: hook.secret });
      expect(huge.status).toBe(413);
      const signedWrongLength = await deliver(worker.url, "hostile", body, { signature: "sha256=abc" });
      expect(signedWrongLength.status).toBe(401);
    });

    it("names every bad field of a hook; a taken name is a conflict; rotating the secret shows the new one and retires the old", async () => {
      const bad = await api(worker.url, "/api/hooks", { method: "POST", body: JSON.stringify({ name: "Bad!", secret: "short", task: { type: "cli", title: "x" } }) });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { errors: { field: string }[] }).errors.map((e) => e.field).sort()).toEqual(["name", "secret"]);
      const badTask = await api(worker.url, "/api/hooks", { method: "POST", body: JSON.stringify({ name: "ok", task: { type: "cli", title: "x", timeoutMs: "{{body.t}}" } }) });
      // timeoutMs is a placeholder as a whole: its type is only known at delivery, so it is not refused now.
      expect(((await badTask.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual(["task.command"]);
      const { hook } = (await (await api(worker.url, "/api/hooks", { method: "POST", body: JSON.stringify({ name: "rot", task: TEMPLATE }) })).json()) as { hook: { secret: string } };
      expect((await api(worker.url, "/api/hooks", { method: "POST", body: JSON.stringify({ name: "rot", task: TEMPLATE }) })).status).toBe(409);
      const rotated = (await (await api(worker.url, "/api/hooks/rot", { method: "PATCH", body: JSON.stringify({ rotateSecret: true }) })).json()) as { hook: { secret: string } };
      expect(rotated.hook.secret).not.toBe(hook.secret);
      const body = JSON.stringify({ ref: "x" });
      expect((await deliver(worker.url, "rot", body, { secret: hook.secret })).status).toBe(401);
      expect((await deliver(worker.url, "rot", body, { secret: rotated.hook.secret })).status).toBe(202);
      expect((await api(worker.url, "/api/hooks/rot", { method: "DELETE" })).status).toBe(204);
      expect((await deliver(worker.url, "rot", body, { secret: rotated.hook.secret })).status).toBe(404);
    });
  });
}

describe.skipIf(!postgresAvailable)("inbound webhooks with two workers sharing PostgreSQL", () => {
  const schema = uniqueSchema("hooks");
  const workers: Worker[] = [];
  afterEach(async () => {
    for (const w of workers.splice(0)) {
      await stopWorker(w);
      await w.store.close();
    }
    await dropSchema(schema);
  });

  it("the same delivery to both at the same instant makes one task", async () => {
    for (let i = 0; i < 2; i++) workers.push(await startWorker(await TaskStore.open({ databaseUrl: TEST_DATABASE_URL, schema })));
    const [a, b] = workers as [Worker, Worker];
    const hook = await a.hooks.create({ name: "shared", task: TEMPLATE });
    for (let round = 0; round < 10; round++) {
      const body = JSON.stringify({ ref: `r${round}` });
      const headers = { "Idempotency-Key": `delivery-${round}` };
      const answers = await Promise.all([deliver(a.url, "shared", body, { secret: hook.secret, headers }), deliver(b.url, "shared", body, { secret: hook.secret, headers })]);
      const bodies = (await Promise.all(answers.map((r) => r.json()))) as { task: { id: string }; created: boolean }[];
      expect(answers.every((r) => r.status === 200 || r.status === 202)).toBe(true);
      expect(bodies[0]?.task.id).toBe(bodies[1]?.task.id);
      expect(bodies.filter((x) => x.created)).toHaveLength(1);
    }
    expect((await a.manager.listTasks({ limit: 50, offset: 0 })).tasks).toHaveLength(10);
  });
});
