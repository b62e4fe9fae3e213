/**
 * What the dashboard's refresh (/api/stats, every 2 s while it is open) and a Prometheus scrape
 * (/metrics) cost the task store as finished tasks pile up within TASK_RESULT_TTL: a store filled
 * with `size` finished tasks spread over the last 7 days (a few hundred in the last hour; or, for
 * the busy-hour rows, all of them in the last hour), 50
 * pending and 10 running, then the reads timed (median of 15). On PGlite these reads share the
 * one connection with the worker's claims, so their time is time the queue stands still.
 * Run alone: `npx tsx bench/stats-cost.ts` (BENCH_STATS_SIZES="100000,1000000").
 */
import { pathToFileURL } from "node:url";
import { TaskMetrics } from "../src/metrics.js";
import { tagRowsFrom } from "../src/store/migrations/025-task-tags.js";
import { rollUpFinished } from "../src/store/sql/roll-up-finished.js";
import { TaskStore } from "../src/store/task-store.js";
import { fmt, medianMs, postgresProblem, table, withPgliteStore, withPostgresStore } from "./support.js";

const SIZES = (process.env.BENCH_STATS_SIZES ?? "100000,1000000").split(",").map(Number);
const PGLITE_MAX = Number(process.env.BENCH_STATS_PGLITE_MAX ?? 200_000);
const REPEAT = 15;

/**
 * Finished tasks over the last 7 days (the last `size / 2000` in the last hour, or all of them in a
 * busy hour), then the live ones.
 */
async function fill(store: TaskStore, size: number, busyHour: boolean): Promise<void> {
  const recent = busyHour ? size : Math.max(100, Math.floor(size / 2000));
  for (let from = 1; from <= size; from += 100_000) {
    const to = Math.min(size, from + 99_999);
    await store.db.query(
      `INSERT INTO ph_tasks (id, type, title, params, status, priority, rank_at, attempts, max_attempts, timeout_ms, drive_id, document_id,
                             created_at, started_at, finished_at, updated_at, run_ms, result, source)
       SELECT gen_random_uuid()::text, 'type-' || (i % 5), 'task ' || i,
              CASE WHEN i % 10000 = 0 THEN '{"command":"echo","args":["hello"],"tags":["release-42"]}' ELSE '{"command":"echo","args":["hello"]}' END::jsonb,
              CASE WHEN i % 50 = 0 THEN 'cancelled' WHEN i % 12 = 0 THEN 'failed' ELSE 'completed' END, 50, f - interval '1 second', 1, 3, 60000,
              'drive-' || (i % 10), 'doc-' || (i % 500), f - interval '2 seconds', f - interval '1 second', f, f, (i % 997) * 3,
              '{"exitCode":0,"stdout":"hello from a task that printed a line or two of output"}'::jsonb,
              -- One in 10,000 asked for by alice's named token, one in 10 by bob's (the rest by no one named).
              CASE WHEN i % 10000 = 0 THEN '{"by":"alice","chainDepth":0}'::jsonb WHEN i % 10 = 1 THEN '{"by":"bob","chainDepth":0}'::jsonb END
       FROM (SELECT i, CASE WHEN i > $3::int - $4::int THEN now() - make_interval(secs => ($3::int - i) * 3000.0 / $4::int)
                            ELSE now() - interval '1 hour' - make_interval(secs => (i % 100000) * 6.0 + (i / 100000) * 0.01) END AS f
             FROM generate_series($1::int, $2::int) i) g`,
      [from, to, size, recent],
    );
  }
  await store.db.query(
    `INSERT INTO ph_tasks (id, type, title, status, priority, rank_at, max_attempts, timeout_ms, locked_by, lease_expires_at, started_at)
     SELECT gen_random_uuid()::text, 'type-' || (i % 5), 'live ' || i, CASE WHEN i <= 10 THEN 'running' ELSE 'pending' END, 50, now(), 3, 60000,
            CASE WHEN i <= 10 THEN 'bench' END, CASE WHEN i <= 10 THEN now() + interval '1 hour' END, CASE WHEN i <= 10 THEN now() END
     FROM generate_series(1, 60) i`,
  );
  // Each finished task's event log: its first status entry and a line of output (what the cleanup walks).
  await store.db.query(
    `INSERT INTO ph_task_events (task_id, kind, stream, data, bytes)
     SELECT id, k.kind, k.stream, k.data, k.bytes FROM ph_tasks,
       (VALUES ('status', NULL, '{"status":"pending","attempt":0}', 0), ('output', 'stdout', 'hello', 6)) AS k(kind, stream, data, bytes)
     WHERE finished_at IS NOT NULL`,
  );
  // The tags' rows, as the inserts write them (written straight into ph_tasks above, as migration 025 fills them).
  await store.db.query(`INSERT INTO ph_task_tags (task_id, tag) ${tagRowsFrom("ph_tasks")}`);
  // And the titles' (migration 028).
  await store.db.query("INSERT INTO ph_task_titles (task_id, title) SELECT id, title FROM ph_tasks");
  await store.db.query("VACUUM ANALYZE ph_tasks");
  await store.db.query("VACUUM ANALYZE ph_task_events");
  await store.db.query("VACUUM ANALYZE ph_task_tags");
  await store.db.query("VACUUM ANALYZE ph_task_titles");
}

const timeMs = (read: () => Promise<unknown>) => medianMs(read, REPEAT);

/** What one /api/stats answer reads from the store. */
export const statsReads = (store: TaskStore) => store.overview(60);

async function measure(label: string, store: TaskStore, size: number, busyHour = false): Promise<(string | number)[]> {
  await fill(store, size, busyHour);
  const metrics = new TaskMetrics({ store, types: ["type-0"], defaultMetrics: false });
  // The first refresh rolls the hour's ends up (migration 027); later ones read the rollup and the
  // seconds since (a rollup of the few seconds' ends then runs at most every 5 s).
  const firstStart = performance.now();
  await statsReads(store);
  const first = performance.now() - firstStart;
  const stats = await timeMs(() => statsReads(store));
  // One rollup step as a worker or a stats read does it every 5 s or more: the last 5 s of the
  // fill's ends rolled up (again each time: the counts of this store do not matter here).
  const step = await timeMs(async () => {
    const { rows } = await store.db.query<{ from_at: Date; to_at: Date }>(
      "SELECT date_trunc('milliseconds', max(finished_at) - interval '5 seconds') AS from_at, date_trunc('milliseconds', max(finished_at)) + interval '1 millisecond' AS to_at FROM ph_tasks",
    );
    const { from_at: from, to_at: to } = rows[0]!;
    await store.db.query("UPDATE ph_finished_rollup SET through = $1", [from]);
    if (!(await rollUpFinished(store.db, from, to))) throw new Error("the rollup step did not run");
  });
  const scrape = await timeMs(() => metrics.registry.metrics());
  // The overview's two lists, and its recent list filtered to failed tasks or by a title.
  const recent = await timeMs(() => store.list({ limit: 25, offset: 0 }));
  const running = await timeMs(() => store.list({ status: ["running"], limit: 10, offset: 0 }));
  const failed = await timeMs(() => store.list({ status: ["failed"], limit: 25, offset: 0 }));
  // A title one task in nine has ("task 99…"), and one that no task has.
  const titled = await timeMs(() => store.list({ titleContains: "task 99", limit: 25, offset: 0 }));
  const untitled = await timeMs(() => store.list({ titleContains: "no task has this title", limit: 25, offset: 0 }));
  // A tag a few tasks carry (one in 10,000), as `ph-tasks list --tag` and the dashboard's tag filter ask.
  const tagged = await timeMs(() => store.list({ tag: "release-42", limit: 25, offset: 0 }));
  // The tasks one person asked for (migration 046), as `ph-tasks list --by` asks: one in 10,000, and one in 10.
  const fewByOne = await timeMs(() => store.list({ askedBy: "alice", limit: 25, offset: 0 }));
  const manyByOne = await timeMs(() => store.list({ askedBy: "bob", limit: 25, offset: 0 }));
  // The periodic cleanup when nothing is past its retention (every worker, up to hourly).
  const cleanup = await timeMs(() => store.deleteExpired(30 * 24 * 3600 * 1000));
  return [label, `${fmt(size)}${busyHour ? " (all in the last hour)" : ""}`, fmt(first, 1), fmt(stats, 1), fmt(step, 1), fmt(scrape, 1), fmt(recent, 1), fmt(running, 1), fmt(failed, 1), fmt(titled, 1), fmt(untitled, 1), fmt(tagged, 1), fmt(fewByOne, 1), fmt(manyByOne, 1), fmt(cleanup, 1)];
}

export async function benchStatsCost(): Promise<string> {
  const title = `### Dashboard refresh and metrics scrape with finished tasks kept (median of ${REPEAT})`;
  const rows: (string | number)[][] = [];
  for (const size of SIZES.filter((s) => s <= PGLITE_MAX)) rows.push(await withPgliteStore((store) => measure("PGlite", store, size)));
  // A busy hour: the largest size, all ended within the last hour (280 a second at 1,000,000).
  const busiest = Math.max(...SIZES.filter((s) => s <= PGLITE_MAX));
  if (Number.isFinite(busiest)) rows.push(await withPgliteStore((store) => measure("PGlite", store, busiest, true)));
  const problem = await postgresProblem();
  for (const [size, busyHour] of problem ? [] : [...SIZES.map((s) => [s, false] as const), [Math.max(...SIZES), true] as const]) {
    rows.push(await withPostgresStore((store) => measure("PostgreSQL", store, size, busyHour)));
  }
  const note = problem ? `\n\nPostgreSQL not measured: ${problem}` : "";
  return `${title}\n\n${table(["store", "finished tasks kept", "first /api/stats (rollup), ms", "/api/stats reads, ms", "rollup step (5 s of ends), ms", "/metrics scrape, ms", "recent list, ms", "running list, ms", "failed only, ms", "title search, ms", "title nobody has, ms", "tag filter, ms", "by a person (1 in 10,000), ms", "by a person (1 in 10), ms", "cleanup, nothing due, ms"], rows)}${note}`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(await benchStatsCost());
  process.exit(0);
}
