/**
 * What `ph-tasks store copy` takes: an embedded store of BENCH_COPY_TASKS finished tasks (default
 * 100,000; each with four events — three statuses and a line of output — and its title row), copied
 * into a new PostgreSQL schema, then from there into a new data directory: wall time, tasks and rows
 * per second, and this process's peak resident memory during the copy (sampled every 50 ms; the
 * copy reads and writes 64 heap pages at a time). Run alone: `npx tsx bench/store-copy.ts`.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { pathToFileURL } from "node:url";
import pg from "pg";
import { copyStore, type StoreLocation } from "../src/store/store-copy.js";
import { TaskStore } from "../src/store/task-store.js";
import { BENCH_DATABASE_URL, dropSchema, fmt, postgresProblem, table } from "./support.js";

const TASKS = Number(process.env.BENCH_COPY_TASKS ?? 100_000);

/** Fills the embedded store in `dataDir` with `tasks` finished tasks, their events and titles (SQL, in the store itself). */
async function fill(dataDir: string, tasks: number): Promise<void> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const store = await TaskStore.open({ dataDir: path.join(dataDir, "store") });
  try {
    await store.db.query(
      `INSERT INTO ph_tasks (id, type, title, params, status, priority, rank_at, attempts, max_attempts, timeout_ms, drive_id, document_id, source, started_at, finished_at, result)
       SELECT 'bench-' || g, 'cli', 'bench task ' || g, '{"command":"echo","args":["hello"]}', 'completed', 50, now(), 1, 3, 60000,
              'drive-' || (g % 10), 'doc-' || g, '{"origin":"api"}', now(), now(), '{"exitCode":0}'
         FROM generate_series(1, $1::int) g`,
      [tasks],
    );
    await store.db.query(
      `INSERT INTO ph_task_events (task_id, kind, stream, data, bytes)
       SELECT 'bench-' || g, k.kind, k.stream, k.data, length(k.data)
         FROM generate_series(1, $1::int) g,
              (VALUES (1, 'status', NULL, '{"status":"pending"}'), (2, 'status', NULL, '{"status":"running","attempt":1}'),
                      (3, 'output', 'stdout', E'hello\\n'), (4, 'status', NULL, '{"status":"completed"}')) k(n, kind, stream, data)
        ORDER BY g, k.n`,
      [tasks],
    );
    await store.db.query(`INSERT INTO ph_task_titles (task_id, title) SELECT 'bench-' || g, 'bench task ' || g FROM generate_series(1, $1::int) g`, [tasks]);
  } finally {
    await store.close();
  }
}

/** Runs `copy`, sampling this process's resident memory meanwhile: its result, seconds, and the peak (MB). */
async function measured<T>(copy: () => Promise<T>): Promise<{ value: T; seconds: number; beforeMb: number; peakMb: number }> {
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const start = performance.now();
  try {
    const value = await copy();
    return { value, seconds: (performance.now() - start) / 1000, beforeMb: before / 1e6, peakMb: Math.max(peak, process.memoryUsage().rss) / 1e6 };
  } finally {
    clearInterval(sampler);
  }
}

export async function benchStoreCopy(): Promise<string> {
  const problem = await postgresProblem();
  if (problem) return `### Store copy\n\nnot measured: PostgreSQL at ${BENCH_DATABASE_URL} is not reachable (${problem}).`;
  const root = mkdtempSync(path.join(tmpdir(), "ph-bench-copy-"));
  const schema = `bench_copy_${randomBytes(4).toString("hex")}`;
  const client = new pg.Client({ connectionString: BENCH_DATABASE_URL });
  await client.connect();
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.end();
  try {
    const embedded: StoreLocation = { kind: "dir", dir: path.join(root, "data") };
    const server: StoreLocation = { kind: "postgres", url: `${BENCH_DATABASE_URL}${BENCH_DATABASE_URL.includes("?") ? "&" : "?"}options=${encodeURIComponent(`-c search_path=${schema}`)}` };
    const back: StoreLocation = { kind: "dir", dir: path.join(root, "back") };
    const fillStart = performance.now();
    await fill(embedded.dir, TASKS);
    const fillSeconds = (performance.now() - fillStart) / 1000;
    const rows: string[][] = [];
    for (const [label, from, to] of [["embedded → PostgreSQL", embedded, server], ["PostgreSQL → embedded", server, back]] as const) {
      const { value: report, seconds, beforeMb, peakMb } = await measured(() => copyStore(from, to));
      const copied = report.tables.reduce((sum, t) => sum + t.rows, 0);
      rows.push([label, fmt(report.tasks), fmt(copied), seconds.toFixed(1), fmt(Math.round(report.tasks / seconds)), fmt(Math.round(copied / seconds)), fmt(Math.round(beforeMb)), fmt(Math.round(peakMb))]);
    }
    return [
      "### Store copy (`ph-tasks store copy`)",
      "",
      `${fmt(TASKS)} finished tasks, each with four events and a title row (filled in ${fillSeconds.toFixed(1)} s); the whole store copied in one snapshot and one transaction, this process's resident memory before and at its peak during the copy (sampled every 50 ms; each embedded store open is a PGlite instance — Postgres in WASM — in this process).`,
      "",
      table(["copy", "tasks", "rows", "seconds", "tasks/s", "rows/s", "RSS before (MB)", "peak RSS (MB)"], rows),
    ].join("\n");
  } finally {
    await dropSchema(schema);
    rmSync(root, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(await benchStoreCopy());
  process.exit(0);
}
