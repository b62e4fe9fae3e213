import type { Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../src/logger.js";
import { TaskMetrics } from "../src/metrics.js";
import { TaskStore } from "../src/store/task-store.js";
import { createApp, HostNotAllowedError, listen } from "../src/http/server.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import { testManager } from "./support/manager.js";
import { readSse } from "./support/sse.js";
import { waitFor } from "./support/process.js";

const TOKEN = "test-token-0123456789abcdef";
const READ_TOKEN = "read-token-0123456789abcdef";

describe("HTTP API", () => {
  let store: TaskStore;
  let manager: TaskManager;
  let server: Server;
  let base: string;
  const auth = { Authorization: `Bearer ${TOKEN}` };
  const api = (path: string, init: RequestInit = {}) => fetch(`${base}${path}`, { ...init, headers: { "Content-Type": "application/json", ...auth, ...(init.headers as Record<string, string> | undefined) } });
  const post = (path: string, body: unknown) => api(path, { method: "POST", body: JSON.stringify(body) });
  const finished = (id: string) => waitFor(async () => {
    const { task } = (await (await api(`/api/tasks/${id}`)).json()) as { task: { status: string } };
    return ["completed", "failed", "cancelled"].includes(task.status) ? task : undefined;
  }, 20_000, `task ${id}`);

  beforeAll(async () => {
    store = await TaskStore.open({});
    manager = testManager(store, { maxConcurrent: 4, maxPerDocument: 10 });
    await manager.start();
    const metrics = manager.metrics!;
    ({ server, url: base } = await listen(createApp({ manager, metrics, logger: silentLogger(), apiToken: TOKEN, readToken: READ_TOKEN }), "127.0.0.1", 0, TOKEN));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await manager.stop(0);
    await store.close();
  });

  it("refuses requests without the token but keeps /healthz open", async () => {
    expect((await fetch(`${base}/api/tasks`)).status).toBe(401);
    expect((await fetch(`${base}/api/tasks`, { headers: { Authorization: "Bearer wrong-token-value-000000" } })).status).toBe(401);
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok", store: "pglite" });
  });

  it("API_READ_TOKEN reads everything (tasks, events, metrics, queue) and changes nothing: 403 naming the token needed", async () => {
    const { task } = (await (await post("/api/tasks", { type: "cli", title: "read me", command: "echo", args: ["visible"], environment: { DEPLOY_TOKEN: "s3cret-deploy-value" } })).json()) as { task: { id: string } };
    await finished(task.id);
    const reader = { Authorization: `Bearer ${READ_TOKEN}` };
    const read = (path: string, init: RequestInit = {}) => fetch(`${base}${path}`, { ...init, headers: { "Content-Type": "application/json", ...reader } });
    expect(await (await read("/api/access")).json()).toEqual({ access: "read" });
    expect(await (await api("/api/access")).json()).toEqual({ access: "full" });
    // It sees which variables a task was given, not their values; API_TOKEN sees them.
    expect(((await (await read(`/api/tasks/${task.id}`)).json()) as { task: unknown }).task).toMatchObject({ status: "completed", environment: { DEPLOY_TOKEN: "(hidden)" } });
    expect(((await (await api(`/api/tasks/${task.id}`)).json()) as { task: unknown }).task).toMatchObject({ environment: { DEPLOY_TOKEN: "s3cret-deploy-value" } });
    expect(await (await read("/api/tasks?limit=100")).text()).not.toContain("s3cret-deploy-value");
    const log = (await (await read(`/api/tasks/${task.id}/log`)).json()) as { events: { kind: string; data: string }[] };
    expect(log.events.some((e) => e.kind === "output" && e.data.includes("visible"))).toBe(true);
    expect((await read("/metrics")).status).toBe(200);
    expect((await read("/api/queue/pauses")).status).toBe(200);
    const listed = await (await read("/api/tasks?limit=100")).text();

    const attempts: [string, string, unknown][] = [
      ["POST", "/api/tasks", { type: "cli", title: "not run", command: "echo" }],
      ["POST", `/api/tasks/${task.id}/retry`, {}],
      ["POST", "/api/tasks/retry", { status: ["completed"] }],
      ["POST", "/api/queue/pause", { reason: "no" }],
      ["PUT", "/api/queue/rate-limits/cli", { max: 1, per: "1m" }],
      ["DELETE", "/api/queue/rate-limits/cli", undefined],
    ];
    for (const [method, path, body] of attempts) {
      const res = await read(path, { method, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(await res.json()).toEqual({ error: "forbidden", message: `this token may only read (API_READ_TOKEN): ${method} ${path} needs API_TOKEN or a token of API_USERS` });
    }
    expect(await (await read("/api/tasks?limit=100")).text()).toBe(listed);
    expect(((await (await read("/api/queue/pauses")).json()) as { pauses: unknown[] }).pauses).toEqual([]);
  });

  it("answers a bad task with 400 and every field error", async () => {
    const res = await post("/api/tasks", { type: "cli", title: "", args: "nope", timeoutMs: 5 });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; errors: { field: string; message: string }[] };
    expect(body.error).toBe("validation_failed");
    expect(body.errors.map((e) => e.field).sort()).toEqual(["args", "command", "timeoutMs", "title"]);
    const unknown = (await (await post("/api/tasks", { type: "teleport", title: "x" })).json()) as { errors: { field: string; message: string }[] };
    expect(unknown.errors[0]?.message).toContain("cli");
  });

  it("answers malformed and oversized bodies with a clear error and no stack trace", async () => {
    const bad = await api("/api/tasks", { method: "POST", body: "{not json" });
    expect(bad.status).toBe(400);
    const text = await bad.text();
    expect(text).toContain("not valid JSON");
    expect(text).not.toMatch(/at .*\.js:\d+/);
    const big = await post("/api/tasks", { type: "cli", title: "big", command: "echo", input: "x".repeat(2 * 1024 * 1024) });
    expect(big.status).toBe(413);
  });

  it("creates, lists with filters and pages, and gets a task", async () => {
    const res = await post("/api/tasks", { type: "cli", title: "api echo", command: "echo", args: ["from api"], source: { documentId: "doc-api", driveId: "drive-api" } });
    expect(res.status).toBe(201);
    const { task } = (await res.json()) as { task: { id: string; status: string } };
    expect(task.status).toBe("pending");
    const done = (await finished(task.id)) as unknown as { status: string; result: { stdout: string } };
    expect(done.status).toBe("completed");
    expect(done.result.stdout).toBe("from api\n");
    for (let i = 0; i < 3; i++) await post("/api/tasks", { type: "cli", title: `page ${i}`, command: "true" });
    const list = (await (await api("/api/tasks?documentId=doc-api")).json()) as { tasks: { id: string }[]; total: number };
    expect(list.total).toBe(1);
    expect(list.tasks[0]?.id).toBe(task.id);
    const page = (await (await api("/api/tasks?limit=2&offset=1")).json()) as { tasks: unknown[]; total: number };
    expect(page.tasks).toHaveLength(2);
    expect(page.total).toBeGreaterThanOrEqual(4);
    expect((await api("/api/tasks?status=bogus")).status).toBe(400);
    expect((await api("/api/tasks/nope")).status).toBe(404);
    const again = await post("/api/tasks", { type: "cli", title: "idem", command: "true", idempotencyKey: "k-api" });
    const twice = await post("/api/tasks", { type: "cli", title: "idem", command: "true", idempotencyKey: "k-api" });
    expect([again.status, twice.status]).toEqual([201, 200]);
  });

  it("streams a running task's events in order, and resumes after a reconnect with Last-Event-ID", async () => {
    const script = 'for i in 1 2 3 4 5 6; do echo "line $i"; sleep 0.15; done';
    const { task } = (await (await post("/api/tasks", { type: "cli", title: "stream", command: "sh", args: ["-c", script] })).json()) as { task: { id: string } };
    const first = await readSse(`${base}/api/tasks/${task.id}/events`, { headers: auth, until: (_e, all) => all.filter((x) => x.event === "output").length >= 2 });
    const lastId = first.at(-1)?.id;
    expect(lastId).toBeDefined();
    const rest = await readSse(`${base}/api/tasks/${task.id}/events`, { headers: { ...auth, "Last-Event-ID": lastId! } });
    const all = [...first, ...rest];
    const ids = all.map((e) => Number(e.id)).filter((n) => !Number.isNaN(n));
    expect(new Set(ids).size).toBe(ids.length); // nothing twice
    expect([...ids].sort((a, b) => a - b)).toEqual(ids); // in order
    const output = all.filter((e) => e.event === "output").map((e) => (JSON.parse(e.data) as { data: string }).data).join("");
    expect(output).toBe("line 1\nline 2\nline 3\nline 4\nline 5\nline 6\n");
    expect(rest.at(-1)).toMatchObject({ event: "end" });
    expect(JSON.parse(rest.at(-1)!.data)).toEqual({ status: "completed" });
    const statuses = all.filter((e) => e.event === "status").map((e) => (JSON.parse(e.data) as { status: string }).status);
    expect(statuses).toEqual(["pending", "running", "completed"]);
  });

  it("cancels a running task and retries it", async () => {
    const { task } = (await (await post("/api/tasks", { type: "cli", title: "sleepy", command: "sleep", args: ["30"] })).json()) as { task: { id: string } };
    await waitFor(async () => ((await manager.getTask(task.id))?.status === "running" ? true : undefined));
    expect((await api(`/api/tasks/${task.id}/retry`, { method: "POST" })).status).toBe(409);
    expect((await api(`/api/tasks/${task.id}/cancel`, { method: "POST" })).status).toBe(202);
    expect(((await finished(task.id))).status).toBe("cancelled");
    expect((await api(`/api/tasks/${task.id}/cancel`, { method: "POST" })).status).toBe(409);
    const retried = await api(`/api/tasks/${task.id}/retry`, { method: "POST" });
    expect(retried.status).toBe(200);
    expect(((await retried.json()) as { task: { status: string } }).task.status).toBe("pending");
    await api(`/api/tasks/${task.id}/cancel`, { method: "POST" });
  });

  it("exposes Prometheus metrics with counts that match the tasks run", async () => {
    const text = await (await api("/metrics")).text();
    const completed = /^ph_tasks_completed_total\{type="cli"\} (\d+)$/m.exec(text);
    const { total } = (await (await api("/api/tasks?status=completed&type=cli")).json()) as { total: number };
    expect(Number(completed?.[1])).toBe(total);
    expect(text).toMatch(/^ph_tasks_queue_depth\{type="cli"\} 0$/m);
    expect(text).toMatch(/^# TYPE ph_tasks_duration_seconds histogram/m);
    const stats = (await (await api("/api/stats")).json()) as { counts: Record<string, number> };
    expect(stats.counts.completed).toBe(total);
  });

  it("refuses to listen on a non-loopback address without a token", async () => {
    await expect(listen(createApp({ manager, metrics: new TaskMetrics(), logger: silentLogger() }), "0.0.0.0", 0, undefined)).rejects.toBeInstanceOf(HostNotAllowedError);
  });
});
