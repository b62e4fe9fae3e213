/**
 * kill -9 under load: N tasks (BENCH_CRASH_TASKS, default 2,000) on one engine — ours on
 * PostgreSQL, pg-boss on the same PostgreSQL, BullMQ on Redis — worked by 2 worker processes
 * (crash-worker.ts, concurrency 10 each). Every ~700 ms one of them, at random, gets SIGKILL and a
 * replacement starts at once; after BENCH_CRASH_KILLS kills (default 6) the workers drain the queue.
 * Then: how many tasks the engine's own bookkeeping says completed, how many never did, and from the
 * workers' execution log how many ran more than once. Run alone: `npx tsx bench/crash-recovery.ts`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import pg from "pg";
import { silentLogger } from "../src/logger.js";
import { TaskStore } from "../src/store/task-store.js";
import type { TaskExecutor } from "../src/tasks/executors/executor.js";
import { ExecutorRegistry } from "../src/tasks/executors/registry.js";
import { TaskManager } from "../src/tasks/task-manager.js";
import { CRASH_TASK_TYPE, CrashRequestSchema, RECOVERY, type CrashTask, type CrashWorkerArgs } from "./crash-worker.js";
import { BENCH_DATABASE_URL, BENCH_REDIS, benchSettings, dropSchema, fmt, postgresProblem, redisProblem, table } from "./support.js";

const N = Number(process.env.BENCH_CRASH_TASKS ?? 2000);
const KILLS = Number(process.env.BENCH_CRASH_KILLS ?? 6);
const KILL_EVERY_MS = 700;
const WORKERS = 2;
const CONCURRENCY = 10;
/** From the last kill to "everything completed"; past it the rest counts as lost. */
const TIMEOUT_MS = Number(process.env.BENCH_CRASH_TIMEOUT_MS ?? 120_000);
/** A worker that is not up by then (tsx compiling on a busy machine) is a failed run, not a slow one. */
const READY_TIMEOUT_MS = 60_000;
const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** A worker's arguments but its id, kept per engine (Omit over each member of the union). */
type WorkerSpec = CrashWorkerArgs extends infer A ? (A extends unknown ? Omit<A, "workerId"> : never) : never;

/** One engine: a queue to fill, its own count of finished tasks, and how to take it all down again. */
interface Engine {
  label: string;
  settings: string;
  spec(logSchema: string): WorkerSpec;
  /** Creates the queue and enqueues N tasks whose data carries keys k0 … k(N-1). */
  prepare(): Promise<void>;
  /** Finished tasks as the engine itself records them (failed: given up, counted as lost). */
  counts(): Promise<{ completed: number; failed: number }>;
  cleanup(): Promise<void>;
}

interface Row {
  engine: string;
  completed?: number;
  repeated?: number;
  executions?: number;
  kills?: number;
  drainMs?: number;
  note: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const hex = () => randomBytes(3).toString("hex");
const keys = (from: number, to: number) => Array.from({ length: to - from }, (_, j) => from + j);

/** Every child this module started, alive or not yet reaped: killed on exit, error or Ctrl-C. */
const children = new Set<ChildProcess>();
const killChildren = () => {
  for (const child of children) child.kill("SIGKILL");
};

class WorkerProcess {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
  isReady = false;
  killedByUs = false;
  private readonly stderr: string[] = [];

  constructor(readonly id: string, spec: WorkerSpec) {
    const args: CrashWorkerArgs = { ...spec, workerId: id };
    // stdin is a pipe only so the worker notices our death (see crash-worker.ts); stderr is kept
    // for the report instead of going into the markdown. "close" (not "exit"): stderr is read by then.
    this.child = spawn(process.execPath, ["--import", "tsx", "bench/crash-worker.ts", JSON.stringify(args)], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
    children.add(this.child);
    this.exited = new Promise((resolve) => this.child.once("close", () => { children.delete(this.child); resolve(); }));
    this.child.stderr!.on("data", (chunk: Buffer) => {
      this.stderr.push(chunk.toString());
      if (this.stderr.length > 20) this.stderr.shift();
    });
    this.ready = new Promise((resolve, reject) => {
      createInterface({ input: this.child.stdout! }).on("line", (line) => {
        if (line.startsWith("{") && line.includes('"ready"')) {
          this.isReady = true;
          resolve();
        }
      });
      void this.exited.then(() => reject(new Error(this.failure() ?? `worker ${id} exited before it was ready`)));
    });
    this.ready.catch(() => undefined); // read through failure(); a kill before ready is no error
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Why the worker died on its own, or undefined while it lives or when we killed it. */
  failure(): string | undefined {
    if (this.alive || this.killedByUs) return undefined;
    const tail = this.stderr.join("").trim().split("\n").slice(-3).join(" / ");
    return `worker ${this.id} exited (${this.child.signalCode ?? `code ${this.child.exitCode}`})${tail ? `: ${tail}` : ""}`;
  }

  kill(): void {
    this.killedByUs = true;
    this.child.kill("SIGKILL");
  }
}

/** The worker processes of one run: kills at random, replaces, and takes everything down at the end. */
class Fleet {
  private readonly workers: WorkerProcess[] = [];
  private started = 0;

  constructor(private readonly label: string, private readonly spec: WorkerSpec) {}

  spawn(): WorkerProcess {
    const worker = new WorkerProcess(`${this.label}-w${++this.started}`, this.spec);
    this.workers.push(worker);
    return worker;
  }

  /**
   * SIGKILL to one running worker picked at random, and its replacement started at once. Only a
   * worker that is up counts: killing one still starting would test nothing. False when none is up.
   */
  killOneAndReplace(): boolean {
    const up = this.workers.filter((w) => w.alive && w.isReady && !w.killedByUs);
    const victim = up[Math.floor(Math.random() * up.length)];
    if (!victim) return false;
    victim.kill();
    this.spawn();
    return true;
  }

  failure(): string | undefined {
    for (const w of this.workers) {
      const why = w.failure();
      if (why) return why;
    }
    return undefined;
  }

  async stopAll(): Promise<void> {
    for (const w of this.workers) if (w.alive) w.kill();
    await Promise.all(this.workers.map((w) => w.exited));
  }
}

/** The execution log the workers write to: one row per started execution. */
async function createLog(client: pg.Client): Promise<string> {
  const schema = `crash_log_${hex()}`;
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.query(`CREATE TABLE ${schema}.crash_runs (task_key text NOT NULL, worker text NOT NULL, pid int NOT NULL, at timestamptz NOT NULL DEFAULT now())`);
  return schema;
}

async function logStats(client: pg.Client, schema: string): Promise<{ executions: number; repeated: number }> {
  const { rows } = await client.query<{ executions: number; repeated: number }>(
    `SELECT coalesce(sum(n), 0)::int AS executions, count(*) FILTER (WHERE n > 1)::int AS repeated
     FROM (SELECT count(*) AS n FROM ${schema}.crash_runs GROUP BY task_key) per_key`,
  );
  return rows[0] ?? { executions: 0, repeated: 0 };
}

function ours(): Engine {
  const schema = `crash_ours_${hex()}`;
  let store: TaskStore | undefined;
  const { leaseMs, heartbeatMs, maxAttempts } = RECOVERY.ours;
  return {
    label: "ours, PostgreSQL",
    settings: `leaseMs ${leaseMs}, heartbeat ${heartbeatMs} ms, maxAttempts ${maxAttempts}; per-document (1) and per-drive (3) limits on`,
    spec: (logSchema) => ({ engine: "ours", schema, databaseUrl: BENCH_DATABASE_URL, logSchema, concurrency: CONCURRENCY }),
    async prepare() {
      store = await TaskStore.open({ databaseUrl: BENCH_DATABASE_URL, schema });
      // This manager only enqueues (it is never started): its executor is the schema, never run here.
      const enqueueOnly: TaskExecutor<CrashTask> = { type: CRASH_TASK_TYPE, requestSchema: CrashRequestSchema, execute: () => Promise.reject(new Error("the parent runs no tasks")) };
      const manager = new TaskManager(store, new ExecutorRegistry().register(enqueueOnly), benchSettings(), silentLogger());
      for (let i = 0; i < N; i += 1000) {
        await manager.enqueueTasks(keys(i, Math.min(N, i + 1000)).map((k) => ({ type: CRASH_TASK_TYPE, title: `crash ${k}`, key: `k${k}`, maxAttempts, source: { documentId: `doc-${k % 200}`, driveId: `drive-${k % 10}` } })));
      }
    },
    async counts() {
      const { rows } = await store!.db.query<{ status: string; count: string }>("SELECT status, count(*) AS count FROM ph_tasks GROUP BY status");
      const sum = (statuses: string[]) => rows.filter((r) => statuses.includes(r.status)).reduce((n, r) => n + Number(r.count), 0);
      return { completed: sum(["completed"]), failed: sum(["failed", "cancelled"]) };
    },
    async cleanup() {
      await store?.close();
      await dropSchema(schema);
    },
  };
}

function pgBoss(client: pg.Client): Engine {
  const schema = `crash_pgboss_${hex()}`;
  const queue = "crash";
  const { expireInSeconds, retryLimit, retryDelay, superviseIntervalSeconds, monitorIntervalSeconds } = RECOVERY.pgBoss;
  return {
    label: "pg-boss 12 (same PostgreSQL)",
    settings: `expireInSeconds ${expireInSeconds}, retryLimit ${retryLimit}, retryDelay ${retryDelay}, superviseIntervalSeconds ${superviseIntervalSeconds}, monitorIntervalSeconds ${monitorIntervalSeconds}; batches of ${CONCURRENCY}, no per-key limits`,
    spec: (logSchema) => ({ engine: "pg-boss", schema, queue, databaseUrl: BENCH_DATABASE_URL, logSchema, concurrency: CONCURRENCY }),
    async prepare() {
      const { PgBoss } = await import("pg-boss");
      // Creates the schema and the queue, then leaves: supervising is the workers' job, as ours.
      const boss = new PgBoss({ connectionString: BENCH_DATABASE_URL, schema, supervise: false });
      boss.on("error", () => undefined);
      await boss.start();
      try {
        await boss.createQueue(queue, { expireInSeconds, retryLimit, retryDelay });
        for (let i = 0; i < N; i += 1000) await boss.insert(queue, keys(i, Math.min(N, i + 1000)).map((k) => ({ data: { key: `k${k}` } })));
      } finally {
        await boss.stop({ graceful: false, close: true });
      }
    },
    async counts() {
      // Its job table, not getQueueStats(): those counts are a cache refreshed by the monitor pass.
      const { rows } = await client.query<{ completed: number; failed: number }>(
        `SELECT count(*) FILTER (WHERE state = 'completed')::int AS completed, count(*) FILTER (WHERE state IN ('failed', 'cancelled'))::int AS failed FROM ${schema}.job WHERE name = $1`,
        [queue],
      );
      return rows[0] ?? { completed: 0, failed: 0 };
    },
    cleanup: () => dropSchema(schema),
  };
}

async function bullmq(): Promise<Engine> {
  const { Queue } = await import("bullmq");
  const name = `crash-${hex()}`;
  const queue = new Queue(name, { connection: { ...BENCH_REDIS, maxRetriesPerRequest: null } });
  const { lockDuration, stalledInterval, maxStalledCount } = RECOVERY.bullmq;
  return {
    label: "BullMQ 6.7 (Redis)",
    settings: `lockDuration ${lockDuration} ms, stalledInterval ${stalledInterval} ms, maxStalledCount ${maxStalledCount}; no per-key limits`,
    spec: (logSchema) => ({ engine: "bullmq", queue: name, redis: BENCH_REDIS, databaseUrl: BENCH_DATABASE_URL, logSchema, concurrency: CONCURRENCY }),
    async prepare() {
      for (let i = 0; i < N; i += 1000) await queue.addBulk(keys(i, Math.min(N, i + 1000)).map((k) => ({ name: "crash", data: { key: `k${k}` } })));
    },
    async counts() {
      const counts = await queue.getJobCounts("completed", "failed");
      return { completed: counts.completed ?? 0, failed: counts.failed ?? 0 };
    },
    async cleanup() {
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    },
  };
}

/** One engine through the whole protocol: fill, 2 workers, kills, drain, count. */
async function measure(client: pg.Client, engine: Engine): Promise<Row> {
  const logSchema = await createLog(client);
  const fleet = new Fleet(engine.label.split(/[ ,]/)[0]!, engine.spec(logSchema));
  try {
    await engine.prepare();
    const first = keys(0, WORKERS).map(() => fleet.spawn());
    let readyTimer: NodeJS.Timeout | undefined;
    const readyTimeout = new Promise<never>((_, reject) => (readyTimer = setTimeout(() => reject(new Error(`workers not ready after ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS)));
    await Promise.race([Promise.all(first.map((w) => w.ready)), readyTimeout]).finally(() => clearTimeout(readyTimer));
    const finished = async () => {
      const why = fleet.failure();
      if (why) throw new Error(why);
      const c = await engine.counts();
      return c.completed + c.failed >= N;
    };
    // One loop for both phases, polled every 100 ms so the drain time is as fine as that: a kill
    // every KILL_EVERY_MS until KILLS, then only waiting. A queue that empties before the last kill
    // ends the run there (more kills would interrupt nothing) and the row says so.
    const start = performance.now();
    let kills = 0;
    let lastKillAt = start;
    let nextKillAt = start + KILL_EVERY_MS;
    let timedOut = false;
    while (!(await finished())) {
      const now = performance.now();
      if (now - lastKillAt > TIMEOUT_MS) {
        timedOut = true;
        break;
      }
      if (kills < KILLS && now >= nextKillAt) {
        if (fleet.killOneAndReplace()) {
          kills++;
          lastKillAt = now;
        }
        nextKillAt = now + KILL_EVERY_MS;
      }
      await sleep(100);
    }
    const drainMs = kills > 0 ? performance.now() - lastKillAt : undefined;
    await fleet.stopAll();
    const { completed, failed } = await engine.counts();
    const { executions, repeated } = await logStats(client, logSchema);
    const remarks = [
      ...(timedOut ? [`timed out ${fmt(TIMEOUT_MS / 1000)} s after the last kill`] : []),
      ...(kills < KILLS && !timedOut ? [`queue empty after ${kills} of ${KILLS} kills`] : []),
      ...(failed > 0 ? [`${fmt(failed)} failed (given up)`] : []),
    ];
    return { engine: engine.label, completed, repeated, executions, kills, drainMs, note: [engine.settings, ...remarks].join("; ") };
  } catch (error) {
    return { engine: engine.label, note: `failed: ${error instanceof Error ? error.message : String(error)}` };
  } finally {
    await fleet.stopAll();
    await engine.cleanup().catch(() => undefined);
    await client.query(`DROP SCHEMA IF EXISTS ${logSchema} CASCADE`).catch(() => undefined);
  }
}

export async function benchCrashRecovery(): Promise<string> {
  // Children die with us: on a normal exit, on an error thrown through here, and on Ctrl-C / kill.
  const onSignal = (signal: NodeJS.Signals) => {
    killChildren();
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.on("exit", killChildren);
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const pgIssue = await postgresProblem();
  const redisIssue = await redisProblem();
  const rows: Row[] = [];
  const client = pgIssue ? undefined : new pg.Client({ connectionString: BENCH_DATABASE_URL });
  try {
    if (client) await client.connect();
    // The execution log is in PostgreSQL for every engine, so BullMQ needs it too.
    if (client) rows.push(await measure(client, ours()), await measure(client, pgBoss(client)));
    else rows.push({ engine: "ours, PostgreSQL", note: `not measured: ${pgIssue}` }, { engine: "pg-boss 12", note: `not measured: ${pgIssue}` });
    if (redisIssue || !client) rows.push({ engine: "BullMQ 6.7", note: `not measured: ${redisIssue ?? `the execution log needs PostgreSQL: ${pgIssue}`}` });
    else rows.push(await measure(client, await bullmq()));
  } finally {
    killChildren();
    await client?.end().catch(() => undefined);
    process.off("exit", killChildren);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  const cell = (n: number | undefined, digits = 0) => (n === undefined ? "–" : fmt(n, digits));
  const lines = table(
    ["engine", "tasks enqueued", "completed", "lost", "executed more than once", "executions started", "kills", "drain after last kill (s)", "recovery settings / note"],
    rows.map((r) => [r.engine, r.completed === undefined ? "–" : fmt(N), cell(r.completed), r.completed === undefined ? "–" : fmt(N - r.completed), cell(r.repeated), cell(r.executions), cell(r.kills), r.drainMs === undefined ? "–" : fmt(r.drainMs / 1000, 1), r.note]),
  );
  return [
    `### Crash recovery: ${fmt(N)} tasks of 5–20 ms, ${WORKERS} worker processes × concurrency ${CONCURRENCY}, one killed with SIGKILL (and replaced) every ${KILL_EVERY_MS} ms, ${KILLS} times`,
    "",
    lines,
    "",
    `All three are at-least-once queues: a task killed mid-run runs again, so "executed more than once" is expected after kill -9 (the tasks in flight at the kills, started but not yet recorded as finished: at most ${CONCURRENCY} per kill); "lost" (never completed) must be 0. Drain time is mostly the recovery delay (lease / expiry / lock of 3 s, then the next check).`,
  ].join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(await benchCrashRecovery());
  process.exit(0);
}
