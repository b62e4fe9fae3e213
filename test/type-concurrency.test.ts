/**
 * Concurrency caps per task type across every worker, on PGlite and PostgreSQL: two workers (each
 * with its own connection, 2 slots each) run at most the cap of a type at once between them while
 * another type runs unhindered; a cap changed while they run applies to the next claims; a waiting
 * task says why; bad caps are refused naming the field; the HTTP API.
 */
import { describe, expect, it } from "vitest";
import { ConcurrencyService } from "../src/queue/concurrency-service.js";
import { TypeConcurrencyStore } from "../src/store/type-concurrency-store.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import { ValidationError } from "../src/validation.js";
import { apiPerTest } from "./support/api-server.js";
import { waitFor } from "./support/process.js";
import { finalStatus, type RunLog } from "./support/scripted-executor.js";
import { BACKENDS } from "./support/stores.js";
import { twoWorkersPerTest } from "./support/two-workers.js";

/** Most runs of `log` overlapping at any instant. */
function mostAtOnce(log: RunLog): number {
  const edges = log.flatMap((r) => [[r.at, 1], [r.end ?? Infinity, -1]] as const).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let now = 0;
  let most = 0;
  for (const [, step] of edges) most = Math.max(most, (now += step));
  return most;
}

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`concurrency caps per task type on ${backend.name}`, () => {
    const ctx = twoWorkersPerTest(backend, { maxPerDocument: 10, maxPerDrive: 10, maxConcurrent: 2 });
    const { make, log } = ctx;
    const service = (manager: TaskManager) => new ConcurrencyService(new TypeConcurrencyStore(ctx.store.db), manager.registry);

    it("two workers of 2 slots run at most 3 of a capped type at once between them; another type is not held back", async () => {
      const a = make(ctx.store);
      const b = make(ctx.other);
      await service(a).set("scripted", { max: 3, reason: "three licences" });
      await a.start();
      await b.start();
      const capped: string[] = [];
      // Three rounds of 600 ms for the capped type; the free one's quick tasks share the one slot left.
      for (let i = 0; i < 9; i++) capped.push((await (i % 2 ? a : b).enqueueTask({ type: "scripted", title: `capped ${i}`, script: ["hold:600"] })).task.id);
      const free: string[] = [];
      for (let i = 0; i < 3; i++) free.push((await (i % 2 ? b : a).enqueueTask({ type: "cli", title: `free ${i}`, command: "true" })).task.id);
      const ended = await Promise.all([...capped, ...free].map((id) => finalStatus(a, id)));
      expect(ended.map((t) => t.status)).toEqual(Array(12).fill("completed"));
      expect(mostAtOnce(log)).toBe(3); // 4 at once without the cap (each worker its 2 slots)
      expect(log.map((r) => r.id).sort()).toEqual([...capped].sort()); // each ran once
      expect(new Set(ended.slice(0, 9).map((t) => t.runtime.workerId)).size).toBe(2); // both workers took some
      // The free type did not wait behind the capped one: its tasks all started before the last
      // capped start (their ends include a process's spawn, which a loaded machine stretches).
      const lastCappedStart = Math.max(...log.map((r) => r.at));
      expect(Math.max(...ended.slice(9).map((t) => t.runtime.startedAt?.getTime() ?? Infinity))).toBeLessThan(lastCappedStart);
    });

    it("a cap changed while the workers run applies to the next claims; a waiting task says why; lifted, the rest start", async () => {
      const a = make(ctx.store);
      const b = make(ctx.other);
      await a.start();
      await b.start();
      const caps = service(a);
      expect(await caps.set("scripted", { max: 1 })).toMatchObject({ task_type: "scripted", max_running: 1, running: 0, reason: "" });
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) ids.push((await (i % 2 ? a : b).enqueueTask({ type: "scripted", title: `t${i}`, script: ["hold:10000"] })).task.id); // long enough that none ends before the last starts, however loaded the machine; stop(0) ends them
      const running = async () => (await Promise.all(ids.map((id) => a.getTask(id)))).filter((t) => t?.status === "running").map((t) => t!.id);
      await waitFor(async () => ((await running()).length === 1 ? true : undefined), 5000, "one to run");
      const waiting = (await Promise.all(ids.map((id) => a.getTask(id)))).find((t) => t?.status === "pending")!.id;
      expect(await a.whyWaiting(waiting)).toEqual({ code: "type_busy", message: "1 task(s) of its type running across all workers; at most 1 at once" });
      expect((await caps.list())[0]).toMatchObject({ running: 1 });
      await caps.set("scripted", { max: 3 });
      await waitFor(async () => ((await running()).length === 3 ? true : undefined), 5000, "three to run once raised");
      expect(await caps.remove("scripted")).toBe(true);
      expect(await caps.remove("scripted")).toBe(false);
      await waitFor(async () => ((await running()).length === 4 ? true : undefined), 5000, "the last once lifted");
      // "running" in the store is the claim; the executor's start (the log) follows a moment later.
      await waitFor(() => (log.length === 4 ? true : undefined), 5000, "the last one's executor to start");
      expect(mostAtOnce(log)).toBe(4);
    });

    it("refuses a bad cap or an unknown type, naming the field and what is allowed; the HTTP API", async () => {
      const a = make(ctx.store);
      const caps = service(a);
      const refused = async (type: string, input: unknown) => ((await caps.set(type, input).catch((e: unknown) => e)) as ValidationError).errors;
      expect(await refused("scripted", { max: 0 })).toEqual([expect.objectContaining({ field: "max", value: "0" })]);
      expect(await refused("scripted", { max: 2.5 })).toEqual([expect.objectContaining({ field: "max" })]);
      expect(await refused("scripted", { max: 2, per: "1m" })).toEqual([expect.objectContaining({ field: "(root)", message: 'Unrecognized key: "per"' })]);
      expect(await refused("nope", { max: 2 })).toEqual([{ field: "taskType", value: '"nope"', message: `must be one of ${a.registry.types().join(", ")}` }]);
      expect(await caps.list()).toEqual([]);
    });
  });
}

describe("concurrency caps over HTTP", () => {
  const ctx = apiPerTest();
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await ctx.http.call(method, path, body);
    return { status: res.status, body: (await res.json()) as unknown };
  };
  it("PUT, GET and DELETE /api/queue/concurrency[/:type]; 400 names the field, 404 when there is no cap", async () => {
    const put = await call("PUT", "/api/queue/concurrency/cli", { max: 2, reason: "shared runner" });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ concurrency: { taskType: "cli", max: 2, running: 0, reason: "shared runner" } });
    expect((await call("GET", "/api/queue/concurrency")).body).toMatchObject({ concurrency: [{ taskType: "cli", max: 2 }] });
    const bad = await call("PUT", "/api/queue/concurrency/cli", { max: "lots" });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('"field":"max"');
    const metrics = await (await ctx.http.call("GET", "/metrics")).text();
    expect(metrics).toContain('ph_tasks_concurrency_cap{type="cli"} 2');
    expect((await call("DELETE", "/api/queue/concurrency/cli")).body).toEqual({ removed: "cli" });
    expect(await (await ctx.http.call("GET", "/metrics")).text()).not.toContain('ph_tasks_concurrency_cap{type="cli"}');
    expect((await call("DELETE", "/api/queue/concurrency/cli")).status).toBe(404);
  });
});
