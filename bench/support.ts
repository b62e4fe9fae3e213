/** Shared pieces of the benchmarks: timing, a no-op task type, service probes, tables. */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { z } from "zod";
import { silentLogger } from "../src/logger.js";
import { TaskStore } from "../src/store/task-store.js";
import type { TaskExecutor } from "../src/tasks/executors/executor.js";
import { ExecutorRegistry } from "../src/tasks/executors/registry.js";
import type { ManagerSettings } from "../src/tasks/manager-settings.js";
import { TaskManager } from "../src/tasks/task-manager.js";
import { TaskRequestBaseSchema } from "../src/tasks/types.js";

export const BENCH_DATABASE_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const BENCH_REDIS = { host: "127.0.0.1", port: 6379 };

export const noopExecutor: TaskExecutor = {
  type: "noop",
  requestSchema: TaskRequestBaseSchema.extend({ type: z.literal("noop") }),
  execute: () => Promise.resolve({}),
};

export function benchSettings(overrides: Partial<ManagerSettings> = {}): ManagerSettings {
  return {
    workerId: `bench-${process.pid}`,
    maxConcurrent: 10,
    // TASK_PREFETCH's default for TASK_MAX_CONCURRENT=10 (twice it).
    prefetch: Number(process.env.BENCH_PREFETCH ?? 20),
    maxPerDocument: 1,
    maxPerDrive: 3,
    typeConcurrency: {},
    retry: { baseMs: 1000, maxMs: 60_000 },
    defaultMaxAttempts: 3,
    defaultTimeoutMs: 60_000,
    agingMs: 60_000,
    leaseMs: 30_000,
    heartbeatMs: 1000,
    pollIntervalMs: 2000,
    cleanupIntervalMs: 3_600_000,
    resultTtlMs: 86_400_000,
    outputCapBytes: 1024 * 1024,
    shutdownGraceMs: 1000,
    vacuumEveryFinishes: 2000,
    ...overrides,
  };
}

export function noopManager(store: TaskStore, overrides: Partial<ManagerSettings> = {}): TaskManager {
  return new TaskManager(store, new ExecutorRegistry().register(noopExecutor), benchSettings(overrides), silentLogger());
}

export async function postgresProblem(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: BENCH_DATABASE_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Why the benchmarks' Redis cannot be used, or undefined when it answers a PING. */
export async function redisProblem(): Promise<string | undefined> {
  const { Redis } = await import("ioredis");
  const client = new Redis({ ...BENCH_REDIS, lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0 });
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  } finally {
    client.disconnect();
  }
}

/** `use` on an embedded store of its own, in a directory removed afterwards. */
export async function withPgliteStore<T>(use: (store: TaskStore) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "ph-bench-"));
  const store = await TaskStore.open({ dataDir: dir });
  try {
    return await use(store);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** `use` on a store in a schema of its own on the benchmarks' PostgreSQL, dropped afterwards. */
export async function withPostgresStore<T>(use: (store: TaskStore) => Promise<T>): Promise<T> {
  const schema = `bench_${randomBytes(4).toString("hex")}`;
  const store = await TaskStore.open({ databaseUrl: BENCH_DATABASE_URL, schema });
  try {
    return await use(store);
  } finally {
    await store.close();
    await dropSchema(schema);
  }
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: BENCH_DATABASE_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
}

/** The median of `repeat` timed calls of `read`, after one to warm up, in ms. */
export async function medianMs(read: () => Promise<unknown>, repeat: number): Promise<number> {
  await read();
  const times: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const start = performance.now();
    await read();
    times.push(performance.now() - start);
  }
  return median(times);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export function table(headers: string[], rows: (string | number)[][]): string {
  return [`| ${headers.join(" | ")} |`, `| ${headers.map(() => "---").join(" | ")} |`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

export const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/**
 * A private redis-server on a free port, writing every command to its append-only file with the
 * given fsync policy ("always": each write is on disk before it is answered, as our claims and
 * finishes are; "everysec": up to a second may be lost, as with our async commit). Undefined when
 * no redis-server binary is installed.
 */
export async function startDurableRedis(fsync: "always" | "everysec"): Promise<{ port: number; stop: () => Promise<void> } | undefined> {
  const { spawn, spawnSync } = await import("node:child_process");
  if (spawnSync("redis-server", ["--version"]).status !== 0) return undefined;
  const { createServer } = await import("node:net");
  const port = await new Promise<number>((resolve, reject) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no free port"))));
    });
  });
  const { mkdtemp, rm } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const dir = await mkdtemp(`${tmpdir()}/ph-bench-redis-`);
  const server = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--appendfsync", fsync, "--dir", dir], { stdio: "ignore" });
  const { Redis } = await import("ioredis");
  for (let attempt = 0; ; attempt++) {
    const client = new Redis({ host: "127.0.0.1", port, lazyConnect: true, connectTimeout: 500, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on("error", () => undefined); // refused until the server listens: the loop tries again
    try {
      await client.connect();
      await client.ping();
      break;
    } catch (error) {
      if (attempt > 50) {
        server.kill("SIGKILL");
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      client.disconnect();
    }
  }
  return {
    port,
    stop: async () => {
      const exited = new Promise((resolve) => server.once("exit", resolve));
      server.kill("SIGTERM");
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
