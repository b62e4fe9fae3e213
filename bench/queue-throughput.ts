/**
 * No-op task throughput: our TaskManager (PGlite and PostgreSQL, per-document and per-drive
 * limits on) beside pg-boss on the same PostgreSQL and BullMQ on Redis, same workload, one run.
 * The engines take turns for BENCH_ROUNDS rounds (default 3) and the table shows medians with the
 * range: single runs on a shared 2-core machine moved by ±30 %. Also the wake-up latency of an
 * idle manager. Run alone: `npx tsx bench/queue-throughput.ts`.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { pathToFileURL } from "node:url";
import { TaskStore } from "../src/store/task-store.js";
import { BENCH_DATABASE_URL, BENCH_REDIS, dropSchema, fmt, median, noopManager, postgresProblem, redisProblem, startDurableRedis, table } from "./support.js";

const N = Number(process.env.BENCH_TASKS ?? 5000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = 10;
/** Finished tasks in the table for the "kept" row (see keepHistory). */
const HISTORY = Number(process.env.BENCH_HISTORY ?? 50_000);
/** Only the engines whose label is, or starts with (then a space), one of these ("|"-separated), e.g. "ours, PostgreSQL|pg-boss"; all by default. */
const ONLY = (process.env.BENCH_ENGINES ?? "").split("|").map((s) => s.trim()).filter(Boolean);
/** Skip the wake-up and sustained figures (BENCH_EXTRAS=0), e.g. for quick A/B runs. */
const EXTRAS = process.env.BENCH_EXTRAS !== "0";
/** Tasks run first, untimed, by every engine. */
const WARMUP = Math.max(200, Math.floor(N / 5));

interface Row {
  engine: string;
  processPerSec?: number;
  enqueuePerSec?: number;
  note: string;
}

/** An engine's rounds: every round's figures, reported as median and range. */
interface Series {
  engine: string;
  process: number[];
  enqueue: number[];
  note: string;
}

/** Runs `count` no-op tasks through a manager; resolves with the processing time. */
export async function runOurs(store: TaskStore, count: number, vacuumEveryFinishes = 2000): Promise<{ enqueueMs: number; processMs: number }> {
  const manager = noopManager(store, { maxConcurrent: CONCURRENCY, maxPerDocument: 1, maxPerDrive: 3, vacuumEveryFinishes });
  // 200 documents in 10 drives: per-document limit 1 and per-drive limit 3 (30 ≥ 10 slots) both apply.
  const inputs = Array.from({ length: count }, (_, i) => ({ type: "noop", title: `t${i}`, source: { documentId: `doc-${i % Number(process.env.BENCH_DOCS ?? 200)}`, driveId: `drive-${i % Number(process.env.BENCH_DRIVES ?? 10)}` } }));
  const enqueueStart = performance.now();
  for (let i = 0; i < count; i += 1000) await manager.enqueueTasks(inputs.slice(i, i + 1000));
  const enqueueMs = performance.now() - enqueueStart;
  let done = 0;
  const finished = new Promise<void>((resolve) => manager.on("completed", () => { if (++done === count) resolve(); }));
  const start = performance.now();
  await manager.start();
  await finished;
  const processMs = performance.now() - start;
  await manager.stop(0);
  return { enqueueMs, processMs };
}

/**
 * Finished tasks kept in the table, as retention (TASK_RESULT_TTL, 7 days by default) keeps them in
 * a running agent: a claim or finish whose cost grows with the table shows here.
 */
async function keepHistory(store: TaskStore, count: number): Promise<void> {
  const manager = noopManager(store);
  for (let i = 0; i < count; i += 1000) {
    await manager.enqueueTasks(Array.from({ length: Math.min(1000, count - i) }, (_, j) => ({ type: "noop", title: `old ${i + j}`, source: { documentId: `old-${(i + j) % 500}`, driveId: `drive-${(i + j) % 10}` } })));
  }
  await store.db.query("UPDATE ph_tasks SET status = 'completed', attempts = 1, started_at = now(), finished_at = now(), result = '{}'::jsonb WHERE status = 'pending'");
  await manager.flushOutput();
  await store.vacuum();
}

async function ours(label: string, open: () => Promise<{ store: TaskStore; cleanup: () => Promise<void> }>, history = 0): Promise<Row> {
  const { store, cleanup } = await open();
  try {
    if (history > 0) await keepHistory(store, history);
    await runOurs(store, WARMUP); // JIT, WASM and plan caches warm, as in a running agent
    const { enqueueMs, processMs } = await runOurs(store, N);
    const rss = process.memoryUsage().rss / 1024 / 1024;
    return { engine: label, processPerSec: (N / processMs) * 1000, enqueuePerSec: (N / enqueueMs) * 1000, note: `limits on; RSS ${fmt(rss)} MB after` };
  } finally {
    await cleanup();
  }
}

async function pgBoss(): Promise<Row> {
  await pgBossRun(WARMUP);
  return pgBossRun(N);
}

async function pgBossRun(N: number): Promise<Row> {
  const { PgBoss } = await import("pg-boss");
  const schema = `pgboss_bench_${randomBytes(3).toString("hex")}`;
  const boss = new PgBoss({ connectionString: BENCH_DATABASE_URL, schema });
  boss.on("error", () => undefined);
  await boss.start();
  try {
    const queue = "bench";
    await boss.createQueue(queue);
    const jobs = Array.from({ length: N }, (_, i) => ({ data: { i } }));
    const enqueueStart = performance.now();
    for (let i = 0; i < N; i += 1000) await boss.insert(queue, jobs.slice(i, i + 1000));
    const enqueueMs = performance.now() - enqueueStart;
    let done = 0;
    let resolveAll: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (resolveAll = resolve));
    const start = performance.now();
    // Tuned for its best: batches of 10 (the same concurrency as ours) fetched back to back while
    // they come back full. One job per fetch with 10 local workers idles on the poll (≈ 20 jobs/s).
    await boss.work(queue, { localConcurrency: 1, batchSize: CONCURRENCY, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5 }, (batch: unknown[]) => {
      done += batch.length;
      if (done >= N) resolveAll();
      return Promise.resolve();
    });
    await finished;
    const processMs = performance.now() - start;
    return { engine: "pg-boss 12 (PostgreSQL)", processPerSec: (N / processMs) * 1000, enqueuePerSec: (N / enqueueMs) * 1000, note: "no per-key limits (its group limit is unreliable, see notes)" };
  } finally {
    await boss.stop({ graceful: false, close: true }).catch(() => undefined);
    await dropSchema(schema);
  }
}

const BULLMQ_NOTE = "no per-key limits (groups are BullMQ Pro)";

async function bullmq(): Promise<Row> {
  await bullmqRun(WARMUP, BENCH_REDIS);
  return { ...(await bullmqRun(N, BENCH_REDIS)), note: `${BULLMQ_NOTE}; this Redis keeps nothing on disk` };
}

/**
 * BullMQ on a Redis of its own that fsyncs its append-only file: "always" is the durability our
 * claims and finishes have (on disk before the answer), "everysec" that of our async commit.
 */
async function bullmqDurable(fsync: "always" | "everysec"): Promise<Row> {
  const redis = await startDurableRedis(fsync);
  if (!redis) return { engine: `BullMQ 6.7 (Redis, appendfsync ${fsync})`, note: "not measured: no redis-server installed" };
  try {
    const server = { host: "127.0.0.1", port: redis.port };
    await bullmqRun(WARMUP, server);
    return { ...(await bullmqRun(N, server)), note: `${BULLMQ_NOTE}; Redis with appendonly yes, appendfsync ${fsync}` };
  } finally {
    await redis.stop();
  }
}

async function bullmqRun(N: number, server: { host: string; port: number }): Promise<Row> {
  const { Queue, Worker } = await import("bullmq");
  const name = `bench-${randomBytes(3).toString("hex")}`;
  const connection = { ...server, maxRetriesPerRequest: null };
  const queue = new Queue(name, { connection });
  try {
    const jobs = Array.from({ length: N }, (_, i) => ({ name: "noop", data: { i } }));
    const enqueueStart = performance.now();
    for (let i = 0; i < N; i += 1000) await queue.addBulk(jobs.slice(i, i + 1000));
    const enqueueMs = performance.now() - enqueueStart;
    let done = 0;
    let resolveAll: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (resolveAll = resolve));
    const start = performance.now();
    const worker = new Worker(name, () => Promise.resolve(), { connection, concurrency: CONCURRENCY });
    worker.on("completed", () => {
      if (++done === N) resolveAll();
    });
    await finished;
    const processMs = performance.now() - start;
    await worker.close();
    return { engine: "BullMQ 6.7 (Redis)", processPerSec: (N / processMs) * 1000, enqueuePerSec: (N / enqueueMs) * 1000, note: BULLMQ_NOTE };
  } finally {
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  }
}

async function autovacuumSetting(): Promise<string> {
  const client = new pg.Client({ connectionString: BENCH_DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ autovacuum: string }>("SHOW autovacuum");
    return rows[0]?.autovacuum ?? "unknown";
  } finally {
    await client.end();
  }
}

/** Enqueue on an idle manager → started: the wake-up path (NOTIFY / in-process), not the poll. */
async function wakeupLatency(open: () => Promise<{ store: TaskStore; cleanup: () => Promise<void> }>): Promise<number> {
  const { store, cleanup } = await open();
  const manager = noopManager(store, { pollIntervalMs: 60_000 });
  await manager.start();
  const samples: number[] = [];
  try {
    for (let i = 0; i < 20; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const started = new Promise<number>((resolve) => manager.once("started", () => resolve(performance.now())));
      const t0 = performance.now();
      await manager.enqueueTask({ type: "noop", title: `wake ${i}` });
      samples.push((await started) - t0);
    }
  } finally {
    await manager.stop(0);
    await cleanup();
  }
  return median(samples);
}

/** One long run on PostgreSQL: what the store's own VACUUM keeps up over many tasks. */
async function sustained(open: () => Promise<{ store: TaskStore; cleanup: () => Promise<void> }>, count: number, vacuumEvery: number): Promise<number> {
  const { store, cleanup } = await open();
  try {
    await runOurs(store, WARMUP, vacuumEvery);
    const { processMs } = await runOurs(store, count, vacuumEvery);
    return (count / processMs) * 1000;
  } finally {
    await cleanup();
  }
}

export async function benchQueueThroughput(): Promise<string> {
  // A data directory, as the agent uses (not PGlite's in-memory mode).
  const openPglite = async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "ph-bench-pglite-"));
    const store = await TaskStore.open({ dataDir });
    return { store, cleanup: async () => { await store.close(); await rm(dataDir, { recursive: true, force: true }); } };
  };
  const openPostgres = (asyncCommit: boolean) => async () => {
    const schema = `bench_${randomBytes(3).toString("hex")}`;
    const store = await TaskStore.open({ databaseUrl: BENCH_DATABASE_URL, schema, asyncCommit });
    return { store, cleanup: async () => { await store.close(); await dropSchema(schema); } };
  };
  const pgIssue = await postgresProblem();
  const redisIssue = await redisProblem();
  const engines: [string, () => Promise<Row>][] = [
    ["ours, PGlite (embedded)", () => ours("ours, PGlite (embedded)", openPglite)],
    [`ours, PGlite, ${fmt(HISTORY)} finished tasks kept`, () => ours(`ours, PGlite, ${fmt(HISTORY)} finished tasks kept`, openPglite, HISTORY)],
  ];
  const missing: Row[] = [];
  if (pgIssue) missing.push({ engine: "ours, PostgreSQL", note: `not measured: ${pgIssue}` }, { engine: "pg-boss 12", note: `not measured: ${pgIssue}` });
  else {
    engines.push(["ours, PostgreSQL", () => ours("ours, PostgreSQL", openPostgres(false))]);
    engines.push(["ours, PostgreSQL, async commit", () => ours("ours, PostgreSQL, async commit", openPostgres(true))]);
    engines.push([`ours, PostgreSQL, ${fmt(HISTORY)} finished tasks kept`, () => ours(`ours, PostgreSQL, ${fmt(HISTORY)} finished tasks kept`, openPostgres(false), HISTORY)]);
    engines.push(["pg-boss 12 (PostgreSQL)", pgBoss]);
  }
  if (redisIssue) missing.push({ engine: "BullMQ 6.7", note: `not measured: ${redisIssue}` });
  else {
    engines.push(["BullMQ 6.7 (Redis)", bullmq]);
    engines.push(["BullMQ 6.7 (Redis, appendfsync always)", () => bullmqDurable("always")]);
    engines.push(["BullMQ 6.7 (Redis, appendfsync everysec)", () => bullmqDurable("everysec")]);
  }

  // Engines take turns, so a slow minute of the machine does not land on one engine only.
  const series = new Map<string, Series>();
  const chosen = engines.filter(([engine]) => ONLY.length === 0 || ONLY.some((part) => engine === part || engine.startsWith(`${part} `)));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [engine, run] of chosen) {
      const row = await run();
      const entry = series.get(engine) ?? { engine, process: [], enqueue: [], note: row.note };
      if (row.processPerSec) entry.process.push(row.processPerSec);
      if (row.enqueuePerSec) entry.enqueue.push(row.enqueuePerSec);
      entry.note = row.note;
      series.set(engine, entry);
    }
  }
  const all = [...series.values()];
  const by = (prefix: string) => all.find((r) => r.engine.startsWith(prefix));
  const boss = by("pg-boss");
  const bull = all.find((r) => r.engine === "BullMQ 6.7 (Redis)");
  const ratio = (value: number[], base: Series | undefined) => (value.length && base?.process.length ? `${fmt(median(value) / median(base.process), 2)}×` : "–");
  const range = (values: number[]) => (values.length ? `${fmt(median(values))} (${fmt(Math.min(...values))}–${fmt(Math.max(...values))})` : "–");
  const lines = table(
    ["engine", "processed tasks/s, median (range)", "enqueued tasks/s", "vs pg-boss", "vs BullMQ", "note"],
    [
      ...all.map((r) => [r.engine, range(r.process), r.enqueue.length ? fmt(median(r.enqueue)) : "–", ratio(r.process, boss), ratio(r.process, bull), r.note]),
      ...missing.map((r) => [r.engine, "–", "–", "–", "–", r.note]),
    ],
  );
  const named = (engine: string) => all.find((r) => r.engine === engine);
  const sameDurability = [
    ["ours, PostgreSQL", "BullMQ 6.7 (Redis, appendfsync always)", "on disk before it is answered"],
    ["ours, PostgreSQL, async commit", "BullMQ 6.7 (Redis, appendfsync everysec)", "up to a second may be lost in a crash of the machine"],
  ]
    .filter(([ours, theirs]) => named(ours ?? "")?.process.length && named(theirs ?? "")?.process.length)
    .map(([ours, theirs, what]) => `${ours} vs ${theirs} (${what}): ${ratio(named(ours ?? "")?.process ?? [], named(theirs ?? ""))}`);
  const comparison = sameDurability.length > 0 ? `\n\nAt equal durability — ${sameDurability.join("; ")}.` : "";
  if (!EXTRAS) return lines + comparison;
  const wakePglite = await wakeupLatency(openPglite);
  const wakePostgres = pgIssue ? undefined : await wakeupLatency(openPostgres(false));
  const long = N * 4;
  const sustainedLine = pgIssue
    ? ""
    : `Sustained, ${fmt(long)} tasks in one run on PostgreSQL: ${fmt(await sustained(openPostgres(false), long, 2000))} tasks/s with the store's own VACUUM every 2,000 finishes (TASK_STORE_VACUUM_EVERY), ${fmt(await sustained(openPostgres(false), long, 0))} tasks/s without it (this server's autovacuum is ${await autovacuumSetting()}).`;
  return [
    `### Queue throughput: ${fmt(N)} no-op tasks, concurrency ${CONCURRENCY}, after ${fmt(WARMUP)} untimed warm-up tasks per engine; ${ROUNDS} rounds, engines taking turns`,
    "",
    lines + comparison,
    "",
    `Wake-up latency of an idle manager (enqueue → started, median of 20): PGlite ${fmt(wakePglite, 1)} ms${wakePostgres !== undefined ? `, PostgreSQL ${fmt(wakePostgres, 1)} ms` : ""}.`,
    "",
    sustainedLine,
  ].join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(await benchQueueThroughput());
  process.exit(0);
}
