/**
 * The workers sharing a task store (/api/workers, `ph-tasks workers`, the ph_tasks_workers gauge):
 * each worker writes its row at every heartbeat and removes it when it stops; one killed with
 * SIGKILL shows as lost once its lease has run out, with the tasks it held.
 */
import { execFile } from "node:child_process";
import { hostname } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TaskStore } from "../src/store/task-store.js";
import { WorkerStore } from "../src/store/worker-store.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import { VERSION } from "../src/version.js";
import { apiPerTest, serveApi, TEST_TOKEN } from "./support/api-server.js";
import { HoldRequestSchema } from "./support/hold-schema.js";
import { JsonLinesChild } from "./support/json-lines-child.js";
import { cliRegistry, testManager } from "./support/manager.js";
import { waitFor } from "./support/process.js";
import { BACKENDS, dropSchema, postgresAvailable, TEST_DATABASE_URL, uniqueSchema } from "./support/stores.js";

interface ApiWorker { id: string; self: boolean; state: string; drain: { requestedAt: string; reason: string } | null; host: string; pid: number; version: string; maxConcurrent: number; prefetch: number; types: string[]; holding: number; lastHour: { completed: number; failed: number }; leaseMs: number; startedAt: string; lastSeenAt: string }

const cli = (url: string, args: string[]) =>
  new Promise<string>((resolve, reject) =>
    execFile(process.execPath, [path.resolve("bin/ph-tasks.js"), ...args], { encoding: "utf8", env: { ...process.env, PH_TASKS_URL: url, API_TOKEN: TEST_TOKEN } }, (error, stdout) => (error ? reject(new Error(error.message)) : resolve(stdout))));

async function listed(api: (path: string) => Promise<Response>): Promise<ApiWorker[]> {
  const response = await api("/api/workers");
  expect(response.status).toBe(200);
  return ((await response.json()) as { workers: ApiWorker[] }).workers;
}

describe("the workers list on the embedded store", () => {
  const ctx = apiPerTest();

  it("shows this agent's worker while it runs, the types it claims (a paused one left out), and not after it stopped", async () => {
    expect(await listed(ctx.http.api)).toEqual([]);
    await ctx.manager.start();
    const [me] = await listed(ctx.http.api);
    expect(me).toMatchObject({ id: ctx.manager.workerId, self: true, state: "running", host: hostname(), pid: process.pid, version: VERSION, maxConcurrent: ctx.manager.settings.maxConcurrent, holding: 0, types: ["cli"] });
    expect(Date.parse(me!.lastSeenAt)).toBeGreaterThanOrEqual(Date.parse(me!.startedAt));

    expect((await ctx.http.api("/api/queue/pause", { types: ["cli"], reason: "test" })).status).toBe(200);
    await waitFor(async () => ((await listed(ctx.http.api))[0]?.types.length === 0 ? true : undefined), 5000, "the paused type to leave the worker's types");
    const metrics = await (await ctx.http.api("/metrics")).text();
    expect(metrics).toMatch(/^ph_tasks_workers\{state="running"\} 1$/m);
    expect(metrics).toMatch(/^ph_tasks_workers\{state="lost"\} 0$/m);

    await ctx.manager.stop(0);
    expect(await listed(ctx.http.api)).toEqual([]);
    expect(await cli(ctx.http.url, ["workers"])).toBe("no worker is running on this task store\n");
  });

  it("drains: running work finishes, nothing new is claimed (--wait returns once it holds nothing), resume claims again", async () => {
    await ctx.manager.start();
    const me = ctx.manager.workerId;
    // Long enough to be still running when the drain arrives, even on a loaded machine (the CLI's start).
    const slow = await ctx.manager.enqueueTask({ type: "cli", title: "slow", command: "sleep", args: ["4"], workingDirectory: "/tmp" });
    await waitFor(async () => ((await ctx.manager.getTask(slow.task.id))?.status === "running" ? true : undefined), 5000, "the slow task to start");

    expect((await ctx.http.api("/api/workers/no-such-worker/drain", {})).status).toBe(404);
    const bad = await ctx.http.api(`/api/workers/${me}/drain`, { reason: 7 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual(["reason"]);

    const waited = cli(ctx.http.url, ["workers", "drain", me, "--reason", "maintenance", "--wait", "--timeout", "20s"]);
    const draining = await waitFor(async () => { const [w] = await listed(ctx.http.api); return w?.drain ? w : undefined; }, 15_000, "the drain to be asked");
    if ((await ctx.manager.getTask(slow.task.id))?.status === "running") expect(draining.state).toBe("draining");
    // Asked to drain, it claims nothing new within a heartbeat (200 ms here).
    await new Promise((resolve) => setTimeout(resolve, 400));
    const later = await ctx.manager.enqueueTask({ type: "cli", title: "later", command: "true", workingDirectory: "/tmp" });
    expect(await waited).toMatch(new RegExp(`^draining ${me}: it claims nothing more \\([01] task\\(s\\) held\\)\n$`));
    expect((await ctx.manager.getTask(slow.task.id))?.status).toBe("completed");
    const [drained] = await listed(ctx.http.api);
    expect(drained).toMatchObject({ state: "drained", holding: 0, drain: { reason: "maintenance" } });
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect((await ctx.manager.getTask(later.task.id))?.status).toBe("pending");
    expect(await (await ctx.http.api("/metrics")).text()).toMatch(/^ph_tasks_workers\{state="drained"\} 1$/m);

    expect(await cli(ctx.http.url, ["workers", "resume", me])).toBe(`resumed ${me}: it claims tasks again\n`);
    await waitFor(async () => ((await ctx.manager.getTask(later.task.id))?.status === "completed" ? true : undefined), 5000, "the waiting task to run after the resume");
    expect((await listed(ctx.http.api))[0]).toMatchObject({ state: "running", drain: null, lastHour: { completed: 2, failed: 0 } });
  });
});

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`a drain announced on ${backend.name}`, () => {
    it("a drain and a resume apply at once, not at the worker's next heartbeat (a minute here)", async () => {
      const { store, cleanup } = await backend.open();
      const manager = testManager(store, { heartbeatMs: 60_000 }, cliRegistry("/tmp"));
      try {
        await manager.start();
        const workers = new WorkerStore(store.db);
        expect(manager.claimableTypes()).toEqual(["cli"]);
        expect(await workers.setDrain(manager.workerId, "test")).toBe(true);
        await waitFor(() => (manager.claimableTypes().length === 0 ? true : undefined), 5000, "the drain to apply");
        const waiting = await manager.enqueueTask({ type: "cli", title: "waits for the resume", command: "true" });
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect((await manager.getTask(waiting.task.id))?.status).toBe("pending");
        expect(await workers.setDrain(manager.workerId, undefined)).toBe(true);
        await waitFor(async () => ((await manager.getTask(waiting.task.id))?.status === "completed" ? true : undefined), 5000, "the task to run once resumed");
      } finally {
        await manager.stop(0);
        await cleanup();
      }
    });
  });
}

class WorkerChild extends JsonLinesChild<{ event: string }> {
  constructor(schema: string, workerId: string) {
    // Eight slots: one worker may take all four long tasks and still have room for the quick ones.
    super("test/support/worker-process.ts", { url: TEST_DATABASE_URL, schema, workerId, maxConcurrent: 8, maxPerDocument: 1, maxPerDrive: 3, leaseMs: 1500 });
  }
}

describe.skipIf(!postgresAvailable)("the workers list with worker processes on PostgreSQL", () => {
  let schema = "";
  let store: TaskStore | undefined;
  let client: TaskManager | undefined;
  let http: Awaited<ReturnType<typeof serveApi>> | undefined;
  const children: WorkerChild[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) child.child.kill("SIGKILL");
    await http?.close();
    await client?.stop(0);
    await store?.close();
    await dropSchema(schema);
  });

  it("lists each process with the tasks it holds; one killed with SIGKILL is lost after its lease; one stopped leaves", async () => {
    schema = uniqueSchema("workers");
    store = await TaskStore.open({ databaseUrl: TEST_DATABASE_URL, schema });
    // An agent that only answers the API (never started: it claims nothing and is not listed).
    client = testManager(store, {}, cliRegistry("/tmp").register({ type: "hold", requestSchema: HoldRequestSchema, execute: () => Promise.reject(new Error("the client does not run tasks")) }));
    http = await serveApi(client);
    const [a, b] = [new WorkerChild(schema, "w-a"), new WorkerChild(schema, "w-b")];
    children.push(a, b);
    await Promise.all([a.ready, b.ready]);

    await client.enqueueTasks(Array.from({ length: 4 }, (_, i) => ({ type: "hold", title: `h${i}`, ms: 20_000, source: { documentId: `doc-${i}`, driveId: `drive-${i}` } })));
    const running = await waitFor(async () => {
      const workers = await listed(http!.api);
      return workers.length === 2 && workers.reduce((n, w) => n + w.holding, 0) === 4 ? workers : undefined;
    }, 10_000, "both workers listed, holding the four tasks between them");
    const byId = new Map(running.map((w) => [w.id, w]));
    for (const [id, child] of [["w-a", a], ["w-b", b]] as const) {
      expect(byId.get(id)).toMatchObject({ self: false, state: "running", host: hostname(), pid: child.child.pid, version: VERSION, maxConcurrent: 8, leaseMs: 1500 });
      expect(byId.get(id)?.types.sort()).toEqual(["cli", "hold"]);
    }
    const { rows } = await store.db.query<{ locked_by: string; n: number }>("SELECT locked_by, count(*)::int AS n FROM ph_tasks WHERE status = 'running' GROUP BY locked_by");
    for (const row of rows) expect(byId.get(row.locked_by)?.holding).toBe(row.n);

    const table = await cli(http.url, ["workers"]);
    expect(table.split("\n")[0]).toMatch(/^WORKER +STATE +HOLDING +SLOTS +DONE 1H +FAILED 1H +TYPES +PROCESS +VERSION +STARTED +LAST SEEN$/);
    expect(table).toMatch(new RegExp(`^w-a +running +\\d +8 +0 +0 +(cli,hold|hold,cli) +${hostname()}:${a.child.pid} +${VERSION.replace(/\./g, "\\.")} `, "m"));

    // Drained, w-a claims nothing new: short tasks enqueued now all run on w-b.
    expect((await http.api("/api/workers/w-a/drain", { reason: "test" })).status).toBe(200);
    // (draining while it holds some of the four, drained at once when the other took them all)
    await waitFor(async () => ((await listed(http!.api)).find((w) => w.id === "w-a")?.drain ? true : undefined), 10_000, "w-a asked to drain");
    await new Promise((resolve) => setTimeout(resolve, 700)); // a heartbeat of w-a's (500 ms) has read the drain
    expect(await cli(http.url, ["workers"])).toMatch(/^w-a (draining|drained): test$/m); // why, under the table
    const quick = await client.enqueueTasks(Array.from({ length: 4 }, (_, i) => ({ type: "hold", title: `q${i}`, ms: 50, source: { documentId: `q-doc-${i}`, driveId: `q-drive-${i}` } })));
    const ran = await waitFor(async () => {
      const { rows: done } = await store!.db.query<{ last_worker: string }>("SELECT last_worker FROM ph_tasks WHERE id = ANY($1::text[]) AND status = 'completed'", [quick.map((q) => q.task.id)]);
      return done.length === 4 ? done.map((r) => r.last_worker) : undefined;
    }, 15_000, "the four quick tasks to complete");
    expect(ran).toEqual(["w-b", "w-b", "w-b", "w-b"]);
    expect((await listed(http.api)).find((w) => w.id === "w-b")?.lastHour).toEqual({ completed: 4, failed: 0 });
    expect((await http.api("/api/workers/w-a/resume", {})).status).toBe(200);

    a.child.kill("SIGKILL");
    const afterKill = await waitFor(async () => {
      const workers = await listed(http!.api);
      return workers.find((w) => w.id === "w-a")?.state === "lost" ? workers : undefined;
    }, 10_000, "w-a to show as lost");
    expect(afterKill.find((w) => w.id === "w-b")?.state).toBe("running");
    expect(await (await http.api("/metrics")).text()).toMatch(/^ph_tasks_workers\{state="lost"\} 1$/m);
    expect(await cli(http.url, ["workers"])).toMatch(/^w-a +lost /m);

    await b.stop();
    const left = await listed(http.api);
    expect(left.map((w) => [w.id, w.state])).toEqual([["w-a", "lost"]]);
    // A lost worker is kept an hour, then forgotten.
    expect(await new WorkerStore(store.db).forgetLost(3_600_000)).toEqual([]);
    expect(await new WorkerStore(store.db).forgetLost(0)).toEqual(["w-a"]);
    expect(await listed(http.api)).toEqual([]);
  });
});
