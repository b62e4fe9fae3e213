/**
 * Several worker PROCESSES sharing one PostgreSQL database: the limits hold across them (per
 * document, per drive, a type's rate limit and its concurrency cap), a cancel reaches the process that runs the task,
 * and a worker killed with SIGKILL loses nothing.
 */
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RateLimitStore } from "../src/store/rate-limit-store.js";
import { TypeConcurrencyStore } from "../src/store/type-concurrency-store.js";
import { TaskStore } from "../src/store/task-store.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import { HoldRequestSchema } from "./support/hold-schema.js";
import { JsonLinesChild } from "./support/json-lines-child.js";
import { cliRegistry, testManager } from "./support/manager.js";
import { processAlive, readPid, sleep, waitFor } from "./support/process.js";
import { dropSchema, postgresAvailable, TEST_DATABASE_URL, uniqueSchema } from "./support/stores.js";

interface WorkerLine { event: string; id?: string; doc?: string | null; drive?: string | null; at?: number; worker?: string }

class Worker extends JsonLinesChild<WorkerLine> {
  constructor(schema: string, workerId: string, options: { maxConcurrent?: number; maxPerDocument?: number; maxPerDrive?: number; leaseMs?: number } = {}) {
    super("test/support/worker-process.ts", { url: TEST_DATABASE_URL, schema, workerId, maxConcurrent: options.maxConcurrent ?? 4, maxPerDocument: options.maxPerDocument ?? 1, maxPerDrive: options.maxPerDrive ?? 3, leaseMs: options.leaseMs ?? 5000 });
  }
}

/** Max number of intervals [start, end) open at once, per key. */
function maxOverlap(intervals: { key: string; start: number; end: number }[]): Map<string, number> {
  const byKey = new Map<string, { t: number; d: number }[]>();
  for (const i of intervals) {
    const list = byKey.get(i.key) ?? [];
    list.push({ t: i.start, d: 1 }, { t: i.end, d: -1 });
    byKey.set(i.key, list);
  }
  const result = new Map<string, number>();
  for (const [key, points] of byKey) {
    points.sort((a, b) => a.t - b.t || a.d - b.d); // an end at the same ms closes before a start opens
    let open = 0;
    let max = 0;
    for (const p of points) max = Math.max(max, (open += p.d));
    result.set(key, max);
  }
  return result;
}

describe.skipIf(!postgresAvailable)("TaskManager with several worker processes on PostgreSQL", () => {
  const schema = uniqueSchema("mp");
  let store: TaskStore;
  let client: TaskManager;
  const workers: Worker[] = [];

  beforeAll(async () => {
    store = await TaskStore.open({ databaseUrl: TEST_DATABASE_URL, schema });
    client = testManager(store, {}, cliRegistry("/tmp").register({ type: "hold", requestSchema: HoldRequestSchema, execute: () => Promise.reject(new Error("the client does not run tasks")) }));
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await store.close();
    await dropSchema(schema);
  });

  it("keeps the per-document and per-drive limits across three workers claiming at once", async () => {
    const three = [new Worker(schema, "w1"), new Worker(schema, "w2"), new Worker(schema, "w3")];
    workers.push(...three);
    await Promise.all(three.map((w) => w.ready));
    // Sample the database while it runs, as an outside observer.
    let sampling = true;
    let maxDoc = 0;
    let maxDrive = 0;
    const sampler = (async () => {
      while (sampling) {
        const { rows } = await store.db.query<{ d: number; v: number }>(
          `SELECT coalesce((SELECT max(c) FROM (SELECT count(*) c FROM ph_tasks WHERE status='running' GROUP BY document_id) x), 0)::int AS d,
                  coalesce((SELECT max(c) FROM (SELECT count(*) c FROM ph_tasks WHERE status='running' GROUP BY drive_id) y), 0)::int AS v`);
        maxDoc = Math.max(maxDoc, rows[0]!.d);
        maxDrive = Math.max(maxDrive, rows[0]!.v);
        await sleep(5);
      }
    })();
    const inputs = Array.from({ length: 60 }, (_, i) => ({ type: "hold", title: `h${i}`, ms: 40 + (i % 5) * 10, source: { driveId: `drive-${i % 2}`, documentId: `doc-${i % 8}` } }));
    const stored = await client.enqueueTasks(inputs);
    const ids = new Set(stored.map((s) => s.task.id));
    await waitFor(() => {
      const done = three.flatMap((w) => w.lines).filter((l) => l.event === "completed" && ids.has(l.id!));
      return done.length === 60 || undefined;
    }, 60_000, "60 tasks to complete");
    sampling = false;
    await sampler;

    const lines = three.flatMap((w) => w.lines);
    const starts = new Map(lines.filter((l) => l.event === "exec-start").map((l) => [l.id!, l]));
    const intervals = lines.filter((l) => l.event === "exec-end").map((end) => ({ start: starts.get(end.id!)!.at!, end: end.at!, doc: end.doc!, drive: end.drive! }));
    expect(intervals).toHaveLength(60);
    const byDoc = maxOverlap(intervals.map((i) => ({ key: i.doc, start: i.start, end: i.end })));
    const byDrive = maxOverlap(intervals.map((i) => ({ key: i.drive, start: i.start, end: i.end })));
    expect(Math.max(...byDoc.values())).toBe(1);
    expect(Math.max(...byDrive.values())).toBeLessThanOrEqual(3);
    expect(maxDoc).toBeLessThanOrEqual(1);
    expect(maxDrive).toBeLessThanOrEqual(3);
    // The limits were really exercised: a drive did reach 3, and more than one worker ran tasks.
    expect(Math.max(...byDrive.values())).toBe(3);
    expect(new Set(lines.filter((l) => l.event === "completed").map((l) => l.worker)).size).toBeGreaterThan(1);
    // Each task ran exactly once.
    expect(lines.filter((l) => l.event === "exec-start").length).toBe(60);
    await Promise.all(three.map((w) => w.stop()));
  });

  it("keeps a task type's rate limit across three workers claiming at once: at most 6 starts in any second", async () => {
    const limits = new RateLimitStore(store.db);
    await limits.set("hold", 6, 1000, "");
    try {
      const three = [new Worker(schema, "r1"), new Worker(schema, "r2"), new Worker(schema, "r3")];
      workers.push(...three);
      await Promise.all(three.map((w) => w.ready));
      const stored = await client.enqueueTasks(Array.from({ length: 24 }, (_, i) => ({ type: "hold", title: `r${i}`, ms: 5 })));
      const ids = new Set(stored.map((s) => s.task.id));
      const startsOf = () => three.flatMap((w) => w.lines).filter((l) => l.event === "exec-start" && ids.has(l.id!));
      await waitFor(() => (three.flatMap((w) => w.lines).filter((l) => l.event === "completed" && ids.has(l.id!)).length === 24 || undefined), 30_000, "24 tasks to complete");
      const starts = startsOf().map((l) => l.at!).sort((a, b) => a - b);
      expect(starts).toHaveLength(24); // each ran once
      // Windows are counted in the database when starts are reserved, a few ms before a worker's
      // run begins: 100 ms of slack. Without the limit, all 24 start within a few ms.
      let most = 0;
      for (let i = 0; i < starts.length; i++) most = Math.max(most, starts.filter((t) => t >= starts[i]! && t - starts[i]! < 900).length);
      expect(most).toBe(6);
      expect(starts[23]! - starts[0]!).toBeGreaterThan(2900);
      expect(new Set(startsOf().map((l) => l.worker)).size).toBeGreaterThan(1);
      await Promise.all(three.map((w) => w.stop()));
    } finally {
      await limits.remove(["hold"]);
    }
  });

  it("keeps a task type's concurrency cap across three workers of 4 slots claiming at once: at most 5 running", async () => {
    const caps = new TypeConcurrencyStore(store.db);
    await caps.set("hold", 5, "");
    try {
      const three = [new Worker(schema, "c1", { maxPerDocument: 10, maxPerDrive: 100 }), new Worker(schema, "c2", { maxPerDocument: 10, maxPerDrive: 100 }), new Worker(schema, "c3", { maxPerDocument: 10, maxPerDrive: 100 })];
      workers.push(...three);
      await Promise.all(three.map((w) => w.ready));
      let sampling = true;
      let most = 0;
      const sampler = (async () => {
        while (sampling) {
          const { rows } = await store.db.query<{ n: number }>("SELECT count(*)::int AS n FROM ph_tasks WHERE status = 'running' AND type = 'hold'");
          most = Math.max(most, rows[0]!.n);
          await sleep(5);
        }
      })();
      const stored = await client.enqueueTasks(Array.from({ length: 30 }, (_, i) => ({ type: "hold", title: `c${i}`, ms: 60 + (i % 3) * 20 })));
      const ids = new Set(stored.map((s) => s.task.id));
      await waitFor(() => (three.flatMap((w) => w.lines).filter((l) => l.event === "completed" && ids.has(l.id!)).length === 30 || undefined), 60_000, "30 tasks to complete");
      sampling = false;
      await sampler;
      const lines = three.flatMap((w) => w.lines).filter((l) => ids.has(l.id!));
      const starts = new Map(lines.filter((l) => l.event === "exec-start").map((l) => [l.id!, l.at!]));
      const overlap = maxOverlap(lines.filter((l) => l.event === "exec-end").map((end) => ({ key: "hold", start: starts.get(end.id!)!, end: end.at! })));
      expect(starts.size).toBe(30); // each ran once
      // Reached, never passed (12 slots between the three without the cap); by the runs and by the database.
      expect(overlap.get("hold")).toBe(5);
      expect(most).toBeLessThanOrEqual(5);
      expect(new Set(lines.filter((l) => l.event === "exec-start").map((l) => l.worker)).size).toBeGreaterThan(1);
      await Promise.all(three.map((w) => w.stop()));
    } finally {
      await caps.remove(["hold"]);
    }
  });

  it("cancels a running task held by another process, which kills its process group", async () => {
    const worker = new Worker(schema, "w-cancel");
    workers.push(worker);
    await worker.ready;
    const pidFile = path.join(tmpdir(), `ph-mp-cancel-${Date.now()}.pid`);
    const { task } = await client.enqueueTask({ type: "cli", title: "remote", command: "sh", args: ["-c", `echo $$ > ${pidFile}; exec sleep 60`] });
    const pid = await waitFor(() => readPid(pidFile), 15_000, "pid file");
    const queued = await client.enqueueTask({ type: "hold", title: "queued", ms: 1, source: { documentId: "busy-doc" }, priority: 0 });
    expect(await client.cancelTask(task.id)).toBe(true);
    const requestedAt = Date.now();
    await waitFor(() => (processAlive(pid) ? undefined : true), 5000, "the remote process to die");
    const noticedMs = Date.now() - requestedAt;
    const done = await waitFor(async () => { const t = await client.getTask(task.id); return t?.status === "cancelled" ? t : undefined; }, 5000, "cancelled status");
    expect(done.result).toMatchObject({ cancelled: true });
    expect(noticedMs).toBeLessThan(3000); // about a second at most; NOTIFY usually makes it immediate
    await client.cancelTask(queued.task.id);
    await worker.stop();
  });

  it("recovers the tasks of a worker killed with SIGKILL: nothing lost, nothing run twice to completion", async () => {
    const doomed = new Worker(schema, "w-doomed", { maxConcurrent: 4, maxPerDocument: 10, maxPerDrive: 10, leaseMs: 1500 });
    workers.push(doomed);
    await doomed.ready;
    const inputs = Array.from({ length: 20 }, (_, i) => ({ type: "hold", title: `k${i}`, ms: 300, source: { documentId: `kdoc-${i}`, driveId: "kdrive" } }));
    const stored = await client.enqueueTasks(inputs);
    const ids = new Set(stored.map((s) => s.task.id));
    await waitFor(() => doomed.lines.filter((l) => l.event === "exec-start" && ids.has(l.id!)).length >= 4 || undefined, 15_000, "doomed worker to start tasks");
    doomed.child.kill("SIGKILL");
    await new Promise((resolve) => doomed.child.once("exit", resolve));
    // The database is the truth about what the dead worker held (its last stdout lines may be lost).
    const held = await store.db.query<{ id: string }>("SELECT id FROM ph_tasks WHERE status = 'running' AND locked_by = 'w-doomed'");
    const inFlight = held.rows.map((r) => r.id);
    expect(inFlight.length).toBeGreaterThan(0);

    const rescuer = new Worker(schema, "w-rescuer", { maxConcurrent: 4, maxPerDocument: 10, maxPerDrive: 10, leaseMs: 1500 });
    workers.push(rescuer);
    await rescuer.ready;
    await waitFor(async () => {
      const { rows } = await store.db.query<{ n: number }>("SELECT count(*)::int AS n FROM ph_tasks WHERE id = ANY($1::text[]) AND status = 'completed'", [[...ids]]);
      return rows[0]!.n === 20 || undefined;
    }, 30_000, "all 20 tasks to complete");
    const { rows } = await store.db.query<{ id: string; attempts: number; status: string }>("SELECT id, attempts, status FROM ph_tasks WHERE id = ANY($1::text[])", [[...ids]]);
    expect(rows.filter((r) => r.status === "completed")).toHaveLength(20);
    for (const id of inFlight) expect(rows.find((r) => r.id === id)?.attempts).toBe(2);
    // Completed exactly once: no task reported completed by both workers, and the rescuer
    // completed exactly the tasks the dead worker held plus those nobody had started.
    // (the store says "completed" a moment before the rescuer's line saying so arrives)
    const reported = () => new Set(rescuer.lines.filter((l) => l.event === "completed").map((l) => l.id));
    await waitFor(() => inFlight.every((id) => reported().has(id)) || undefined, 10_000, "the rescuer to report the recovered tasks completed");
    const completions = [...doomed.lines, ...rescuer.lines].filter((l) => l.event === "completed" && ids.has(l.id!)).map((l) => l.id);
    expect(new Set(completions).size).toBe(completions.length);
    const rescued = reported();
    for (const id of inFlight) expect(rescued.has(id)).toBe(true);
    await rescuer.stop();
  });
});
