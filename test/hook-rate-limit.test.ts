/**
 * Inbound hooks' rate limits over real HTTP, on PGlite and PostgreSQL: signed deliveries beyond a
 * hook's limit are answered 429 with Retry-After and make nothing; what makes no new task (a repeat,
 * an unsigned or invalid delivery) takes no start, and a repeat is answered with its task even while
 * the window is full; lifting the limit lets the next one through; and
 * two workers sharing PostgreSQL share one window.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { signBody } from "../src/hooks/hook-receiver.js";
import { TaskStore } from "../src/store/task-store.js";
import { BACKENDS, dropSchema, postgresAvailable, TEST_DATABASE_URL, uniqueSchema } from "./support/stores.js";
import { HOOK_API_TOKEN, startHookAgent, stopHookAgent, type HookAgent } from "./support/hook-agent.js";

const TOKEN = HOOK_API_TOKEN;
const TASK = { type: "cli", title: "{{body.title}}", command: "echo" };

type Agent = HookAgent;
const startAgent = startHookAgent;
const stopAgent = stopHookAgent;

const api = (agent: Agent, path: string, init: RequestInit = {}) =>
  fetch(`${agent.url}${path}`, { ...init, headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json", ...init.headers } });

/** A delivery of `{ title }` with delivery id `id`, signed with `secret` (none: unsigned). */
async function deliver(agent: Agent, title: string, id: string, secret?: string) {
  const body = JSON.stringify({ title });
  const res = await fetch(`${agent.url}/hooks/limited`, { method: "POST", headers: { "Content-Type": "application/json", "X-Delivery-Id": id, ...(secret ? { "X-Signature-256": signBody(secret, body) } : {}) }, body });
  return { status: res.status, retryAfter: res.headers.get("retry-after"), json: (await res.json()) as { created?: boolean; message?: string } };
}

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`hook rate limits on ${backend.name}`, () => {
    let agent: Agent;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      const opened = await backend.open();
      agent = await startAgent(opened.store);
      cleanup = async () => {
        await stopAgent(agent);
        await opened.cleanup();
      };
    });
    afterEach(() => cleanup());

    it("two tasks a minute: the third signed delivery is answered 429 with Retry-After; repeats, unsigned and invalid ones take no start; lifted, it goes through", async () => {
      const created = await api(agent, "/api/hooks", { method: "POST", body: JSON.stringify({ name: "limited", task: TASK, rateLimit: { max: 2, per: "1m" } }) });
      expect(created.status).toBe(201);
      const hook = ((await created.json()) as { hook: { secret: string; rateLimit: unknown } }).hook;
      expect(hook.rateLimit).toEqual({ max: 2, perMs: 60_000, used: 0, nextFreeAt: null });

      expect((await deliver(agent, "forged", "x-1")).status).toBe(401);
      expect((await deliver(agent, "forged", "x-2", "not-the-secret-at-all")).status).toBe(401);
      expect((await deliver(agent, "", "bad-1", hook.secret)).status).toBe(400); // an empty title: invalid
      expect((await deliver(agent, "one", "d-1", hook.secret)).status).toBe(202);
      expect(await deliver(agent, "one", "d-1", hook.secret)).toMatchObject({ status: 200, json: { created: false } });
      expect((await deliver(agent, "two", "d-2", hook.secret)).status).toBe(202);
      const third = await deliver(agent, "three", "d-3", hook.secret);
      expect(third.status).toBe(429);
      // What is left of the minute since the first start (seconds have passed on a loaded machine).
      expect(Number(third.retryAfter)).toBeGreaterThanOrEqual(30);
      expect(Number(third.retryAfter)).toBeLessThanOrEqual(60);
      expect(third.json.message).toMatch(/^rate limited: this hook makes at most 2 task\(s\) per 60 s; try again in \d+ s$/);
      // A repeat of a delivery that made its task is answered with it, though the window is full.
      expect(await deliver(agent, "one", "d-1", hook.secret)).toMatchObject({ status: 200, json: { created: false } });
      expect((await agent.manager.listTasks({ limit: 10, offset: 0 })).tasks.map((t) => t.title).sort()).toEqual(["one", "two"]);

      const shown = ((await (await api(agent, "/api/hooks/limited")).json()) as { hook: { rateLimit: { used: number; nextFreeAt: string | null }; rejectedCount: number; lastError: string } }).hook;
      expect(shown.rateLimit.used).toBe(2);
      expect(shown.rateLimit.nextFreeAt).not.toBeNull();
      expect(shown).toMatchObject({ rejectedCount: 4, receivedCount: 4 });

      const bad = await api(agent, "/api/hooks/limited", { method: "PATCH", body: JSON.stringify({ rateLimit: { max: 2, per: "a while" } }) });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual(["rateLimit.per"]);
      expect((await api(agent, "/api/hooks/limited", { method: "PATCH", body: JSON.stringify({ rateLimit: null }) })).status).toBe(200);
      expect((await deliver(agent, "three", "d-3", hook.secret)).status).toBe(202);
      // Removing the hook removes its limit: a new hook of that name starts without one.
      expect((await api(agent, "/api/hooks/limited", { method: "PATCH", body: JSON.stringify({ rateLimit: { max: 1, per: 60_000 } }) })).status).toBe(200);
      expect((await api(agent, "/api/hooks/limited", { method: "DELETE" })).status).toBe(204);
      expect(await agent.hooks.rateLimitsOf()).toEqual(new Map());
    });
  });
}

describe.skipIf(!postgresAvailable)("hook rate limits with two workers sharing PostgreSQL", () => {
  const schema = uniqueSchema("hooklimit");
  const agents: { agent: Agent; store: TaskStore }[] = [];
  afterEach(async () => {
    for (const { agent, store } of agents.splice(0)) {
      await stopAgent(agent);
      await store.close();
    }
    await dropSchema(schema);
  });

  it("one window for both: of 12 deliveries sent to the two at once, 5 make a task and 7 are answered 429", async () => {
    for (let i = 0; i < 2; i++) {
      const store = await TaskStore.open({ databaseUrl: TEST_DATABASE_URL, schema });
      agents.push({ agent: await startAgent(store), store });
    }
    const [a, b] = agents.map((x) => x.agent) as [Agent, Agent];
    const hook = await a.hooks.create({ name: "limited", task: TASK, rateLimit: { max: 5, per: "1h" } });
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => deliver(i % 2 === 0 ? a : b, `t${i}`, `d-${i}`, hook.secret)));
    expect(answers.filter((r) => r.status === 202)).toHaveLength(5);
    expect(answers.filter((r) => r.status === 429)).toHaveLength(7);
    expect((await a.manager.listTasks({ limit: 50, offset: 0 })).total).toBe(5);
  });
});
