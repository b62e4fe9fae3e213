/**
 * Named read-only tokens (API_READERS): each reader's token reads what API_READ_TOKEN reads — the
 * tasks (their environment values hidden), the log, /metrics, the dashboard's access — and is
 * known by its name: the dashboard says who is signed in, a change asked for is refused naming
 * the reader and the token it needs, and the audit log records it under that name. Each is its
 * own: one revoked, the other still reads. A bad setting is refused naming what is wrong, never
 * echoing a token. On a real agent (startAgent) and through the CLI.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAgent, type Agent } from "../src/agent.js";
import { loadConfig } from "../src/config.js";
import { createApp, listen } from "../src/http/server.js";
import { silentLogger } from "../src/logger.js";
import { TaskStore } from "../src/store/task-store.js";
import { testManager } from "./support/manager.js";
import { phTasks } from "./support/ph-tasks-cli.js";
import { configErrors } from "./support/config-errors.js";
import { waitFor } from "./support/process.js";

const ADMIN = "readers-admin-token-0123456789";
const ALICE = "readers-alice-token-0123456789";
const BOB = "readers-bob-token-0123456789ab";
const CAROL = "readers-carol-token-0123456789";

const errorOf = configErrors;

describe("named read-only tokens (API_READERS) on a real agent", () => {
  let agent: Agent;
  const as = (token: string) => ({ PH_TASKS_URL: agent.url, API_TOKEN: token });
  const call = async (token: string, method: string, route: string, body?: unknown) => {
    const res = await fetch(`${agent.url}${route}`, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "ph-readers-"));
    const env = { TASK_DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "silent", API_TOKEN: ADMIN, API_USERS: `alice=${ALICE}`, API_READERS: `bob=${BOB}, carol=${CAROL}` };
    agent = await startAgent(loadConfig(env, dataDir), { logger: silentLogger(), reactorStorage: { kind: "memory" }, rules: [] });
  });
  afterAll(() => agent.stop());

  it("reads as API_READ_TOKEN does, known by name; a change is refused naming the reader, recorded under that name, and changes nothing", async () => {
    const created = await call(ALICE, "POST", "/api/tasks", { type: "cli", title: "seen by bob", command: "echo", args: ["visible"], environment: { DEPLOY_TOKEN: "s3cret-deploy-value" } });
    expect(created.status).toBe(201);
    const id = (created.json.task as { id: string }).id;
    await waitFor(async () => ((await call(ADMIN, "GET", `/api/tasks/${id}`)).json.task as { status: string }).status === "completed" || undefined, 10_000, "the task to complete");

    // What bob may do, and who the agent takes him for.
    expect((await call(BOB, "GET", "/api/access")).json).toEqual({ access: "read", name: "bob" });
    expect((await call(ALICE, "GET", "/api/access")).json).toEqual({ access: "full", name: "alice" });
    const shown = await call(BOB, "GET", `/api/tasks/${id}`);
    expect(shown.status).toBe(200);
    expect(shown.json.task).toMatchObject({ status: "completed", environment: { DEPLOY_TOKEN: "(hidden)" }, source: { by: "alice" } });
    expect((await call(BOB, "GET", `/api/tasks/${id}/log`)).status).toBe(200);
    expect((await fetch(`${agent.url}/metrics`, { headers: { authorization: `Bearer ${CAROL}` } })).status).toBe(200);
    const listed = await phTasks(["list", "--json"], as(BOB));
    expect(listed.status).toBe(0);
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).not.toContain("s3cret-deploy-value");

    // A change: refused naming him and the token it needs; nothing created, cancelled or paused.
    const before = (await call(ADMIN, "GET", "/api/tasks?limit=100")).json;
    for (const [method, route, body] of [["POST", "/api/tasks", { type: "cli", title: "not run", command: "echo" }], ["POST", `/api/tasks/${id}/retry`, {}], ["POST", "/api/queue/pause", { reason: "no" }], ["PUT", "/api/budgets/daily", { usdPerDay: 1 }]] as const) {
      const refused = await call(BOB, method, route, body);
      expect(refused, `${method} ${route}`).toEqual({ status: 403, json: { error: "forbidden", message: `this token may only read (API_READERS: bob): ${method} ${route} needs API_TOKEN or a token of API_USERS` } });
    }
    const submitted = await phTasks(["submit", "cli", "--", "echo", "no"], as(CAROL));
    expect(submitted.status).not.toBe(0);
    expect(submitted.stderr).toContain("this token may only read (API_READERS: carol): POST /api/tasks needs API_TOKEN or a token of API_USERS");
    expect((await call(ADMIN, "GET", "/api/tasks?limit=100")).json).toEqual(before);
    expect(((await call(ADMIN, "GET", "/api/queue/pauses")).json.pauses as unknown[]).length).toBe(0);

    // The audit log: each refusal under the reader's name (written in the background).
    const refusals = await waitFor(async () => {
      const entries = ((await call(ADMIN, "GET", "/api/audit")).json.entries as { actor: string; action: string; outcome: string }[]).filter((e) => e.outcome === "403");
      return entries.length === 5 ? entries : undefined;
    }, 10_000, "the five refusals in the audit log");
    expect(refusals.map((e) => e.actor).sort()).toEqual(["bob", "bob", "bob", "bob", "carol"]);
    expect(refusals.map((e) => e.action)).toContain("PUT /api/budgets/daily");
  });

  it("each reader's token is its own: one taken out of API_READERS, the other still reads", async () => {
    const store = await TaskStore.open({});
    const manager = testManager(store, {});
    const { server, url } = await listen(createApp({ manager, metrics: manager.metrics!, logger: silentLogger(), apiToken: ADMIN, readers: [{ name: "carol", token: CAROL }] }), "127.0.0.1", 0, ADMIN);
    try {
      const status = async (token: string) => (await fetch(`${url}/api/tasks`, { headers: { authorization: `Bearer ${token}` } })).status;
      expect(await status(BOB)).toBe(401);
      expect(await status(CAROL)).toBe(200);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await store.close();
    }
  });

  it("a bad setting is refused naming what is wrong, never echoing a token", () => {
    expect(loadConfig({ API_TOKEN: ADMIN, API_READERS: `bob=${BOB}, carol=${CAROL}` }).API_READERS).toEqual([{ name: "bob", token: BOB }, { name: "carol", token: CAROL }]);
    expect(errorOf({ API_READERS: `bob=${BOB}` })).toBe("API_READERS: needs API_TOKEN: without it the API is open to everyone, and a read-only token means nothing [(hidden)]");
    expect(errorOf({ API_TOKEN: ADMIN, API_READERS: "bob=short" })).toBe("API_READERS: bob's token must be at least 16 characters [(hidden)]");
    expect(errorOf({ API_TOKEN: ADMIN, API_READERS: BOB })).toContain("API_READERS: entry 1 must be name=token");
    expect(errorOf({ API_TOKEN: ADMIN, API_READERS: `bob=${BOB},carol=${BOB}` })).toContain("carol's token is another user's too");
    // A reader's token may not be one that does more: it would read only by luck of the order of checks.
    const doingMore: Record<string, string>[] = [{ API_TOKEN: BOB }, { API_TOKEN: ADMIN, API_READ_TOKEN: BOB }, { API_TOKEN: ADMIN, API_USERS: `alice=${BOB}` }];
    for (const env of doingMore) {
      const error = errorOf({ ...env, API_READERS: `bob=${BOB}` });
      expect(error).toContain("API_READERS: bob: a reader's token must differ from API_TOKEN, API_READ_TOKEN and every API_USERS token (which may do more) [(hidden)]");
      expect(error).not.toContain(BOB);
    }
  });
});
