/**
 * A worker process of the crash benchmark (crash-recovery.ts): ONE engine's worker — our
 * TaskManager, pg-boss or BullMQ — with concurrency 10 on a queue the parent prepared. Started as
 * `node --import tsx bench/crash-worker.ts '<json args>'` and killed with SIGKILL by the parent.
 *
 * Every task's handler first INSERTs one row into `<logSchema>.crash_runs` (in PostgreSQL, for all
 * three engines, so the log survives the kill and every engine is counted the same way), then waits
 * 5–20 ms and returns. The row comes first: a task killed mid-run counts as executed.
 *
 * The recovery settings of every engine live here (RECOVERY), next to the code that uses them, and
 * the parent imports them for the queues it creates and for its table's note column.
 */
import { pathToFileURL } from "node:url";
import pg from "pg";
import { z } from "zod";
import { silentLogger } from "../src/logger.js";
import { TaskStore } from "../src/store/task-store.js";
import type { TaskExecutor } from "../src/tasks/executors/executor.js";
import { ExecutorRegistry } from "../src/tasks/executors/registry.js";
import { TaskManager } from "../src/tasks/task-manager.js";
import { TaskRequestBaseSchema, type Task } from "../src/tasks/types.js";
import { benchSettings } from "./support.js";

export const CRASH_TASK_TYPE = "crash";
/** Our task type of this benchmark: the base fields plus the unique key the log is keyed by. */
export const CrashRequestSchema = TaskRequestBaseSchema.extend({ type: z.literal(CRASH_TASK_TYPE), key: z.string().min(1) });
export type CrashTask = Task & { key: string };

/**
 * How each engine finds the work of a killed worker, chosen so each can recover well inside the
 * parent's timeout, and with the same budget of 10 recoveries per task, so that a task unlucky
 * enough to be killed several times is not failed by one engine and retried by another.
 */
export const RECOVERY = {
  ours: {
    /** A dead worker's tasks go back to the queue 3 s after its last renewal... */
    leaseMs: 3000,
    /** ...renewed (and expired leases looked for) every second, as the agent derives it (lease / 3, ≤ 1 s). */
    heartbeatMs: 1000,
    /** Counts the first run: 1 + 10 recoveries. */
    maxAttempts: 11,
  },
  pgBoss: {
    /**
     * Active for longer than this = expired, failed and retried. Its lease-like option,
     * heartbeatSeconds, must be ≥ 10; a 3 s expiry matches our lease and is safe for 5–20 ms jobs.
     */
    expireInSeconds: 3,
    retryLimit: 10,
    retryDelay: 0,
    /** Expiry runs in the monitor pass of the supervisor: both default to 60 s, 1 s is the minimum. */
    superviseIntervalSeconds: 1,
    monitorIntervalSeconds: 1,
  },
  bullmq: {
    /** A job whose lock is not renewed for 3 s is stalled (renewed every lockDuration / 2)... */
    lockDuration: 3000,
    /** ...found by a worker's stalled check, every second (default 30 s)... */
    stalledInterval: 1000,
    /** ...and moved back to wait up to 10 times (default 1: a second stall fails the job). */
    maxStalledCount: 10,
  },
} as const;

const Common = z.object({
  workerId: z.string().min(1),
  databaseUrl: z.string().min(1),
  /** Schema of the crash_runs table, created by the parent. */
  logSchema: z.string().regex(/^[a-z_][a-z0-9_]*$/),
  concurrency: z.number().int().positive(),
});
export const CrashWorkerArgsSchema = z.discriminatedUnion("engine", [
  Common.extend({ engine: z.literal("ours"), schema: z.string().min(1) }),
  Common.extend({ engine: z.literal("pg-boss"), schema: z.string().min(1), queue: z.string().min(1) }),
  Common.extend({ engine: z.literal("bullmq"), queue: z.string().min(1), redis: z.object({ host: z.string(), port: z.number().int() }) }),
]);
export type CrashWorkerArgs = z.infer<typeof CrashWorkerArgsSchema>;

const JobData = z.object({ key: z.string().min(1) });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(args: CrashWorkerArgs): Promise<void> {
  const log = new pg.Pool({ connectionString: args.databaseUrl, max: 5 });
  log.on("error", (error) => process.stderr.write(`log pool: ${error.message}\n`));
  /** The handler every engine runs: the log row first (so a kill mid-run is counted), then the "work". */
  const runOne = async (key: string): Promise<void> => {
    await log.query(`INSERT INTO ${args.logSchema}.crash_runs (task_key, worker, pid) VALUES ($1, $2, $3)`, [key, args.workerId, process.pid]);
    await sleep(5 + Math.random() * 15);
  };

  if (args.engine === "ours") {
    const store = await TaskStore.open({ databaseUrl: args.databaseUrl, schema: args.schema });
    const executor: TaskExecutor<CrashTask> = {
      type: CRASH_TASK_TYPE,
      requestSchema: CrashRequestSchema,
      async execute(task) {
        await runOne(task.key);
        return {};
      },
    };
    const manager = new TaskManager(
      store,
      new ExecutorRegistry().register(executor),
      // The limits of queue-throughput.ts: per document 1, per drive 3, exact across the workers.
      benchSettings({ workerId: args.workerId, maxConcurrent: args.concurrency, maxPerDocument: 1, maxPerDrive: 3, leaseMs: RECOVERY.ours.leaseMs, heartbeatMs: RECOVERY.ours.heartbeatMs, pollIntervalMs: 1000 }),
      silentLogger(),
    );
    await manager.start();
  } else if (args.engine === "pg-boss") {
    const { PgBoss } = await import("pg-boss");
    const { superviseIntervalSeconds, monitorIntervalSeconds } = RECOVERY.pgBoss;
    // Every worker supervises (pg-boss's default): the killed ones' expired jobs are found by the living.
    const boss = new PgBoss({ connectionString: args.databaseUrl, schema: args.schema, superviseIntervalSeconds, monitorIntervalSeconds });
    boss.on("error", (error: Error) => process.stderr.write(`pg-boss: ${error.message}\n`));
    await boss.start();
    // Batches of `concurrency` jobs run side by side, fetched back to back while they come full (as
    // in queue-throughput.ts): one job per fetch waits out the 0.5 s poll after every job.
    await boss.work(args.queue, { localConcurrency: 1, batchSize: args.concurrency, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5 }, async (jobs: { data: unknown }[]) => {
      await Promise.all(jobs.map((job) => runOne(JobData.parse(job.data).key)));
    });
  } else {
    const { Worker } = await import("bullmq");
    const { lockDuration, stalledInterval, maxStalledCount } = RECOVERY.bullmq;
    const worker = new Worker(args.queue, async (job: { data: unknown }) => runOne(JobData.parse(job.data).key), {
      connection: { ...args.redis, maxRetriesPerRequest: null },
      concurrency: args.concurrency,
      lockDuration,
      stalledInterval,
      maxStalledCount,
    });
    worker.on("error", (error: Error) => process.stderr.write(`bullmq: ${error.message}\n`));
    await worker.waitUntilReady();
  }
  process.stdout.write(`${JSON.stringify({ event: "ready", worker: args.workerId, pid: process.pid })}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  // The parent holds our stdin open; when it dies, even by SIGKILL, the pipe closes and so do we:
  // no orphan keeps working a queue nobody watches.
  process.stdin.on("end", () => process.exit(1));
  process.stdin.on("close", () => process.exit(1));
  process.stdin.resume();
  try {
    await main(CrashWorkerArgsSchema.parse(JSON.parse(process.argv[2] ?? "{}")));
  } catch (error) {
    process.stderr.write(`crash worker failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
}
