/**
 * What a page of `GET /api/pipelines?status=` (`ph-tasks pipeline list --status`, the dashboard's
 * filter) costs as pipelines pile up within TASK_RESULT_TTL, beside a long queue of other tasks:
 * `size` pipelines of three steps (each step's task tagged `pipeline:<id>`, as the pipeline
 * service makes them), nearly all completed, one in 100 failed, one in 200 cancelled, 20 running,
 * 20 pending and 20 blocked among the newest; and `queued` pending tasks of no pipeline. A page of
 * 25 of each status is timed (median of 15), and a status that no pipeline has.
 * Run alone: `npx tsx bench/pipeline-list-cost.ts` (BENCH_PIPELINE_SIZES="10000,50000",
 * BENCH_PIPELINE_QUEUED=50000).
 */
import { pathToFileURL } from "node:url";
import { tagRowsFrom } from "../src/store/migrations/025-task-tags.js";
import { PipelineStore } from "../src/store/pipeline-store.js";
import { TaskStore } from "../src/store/task-store.js";
import { fmt, medianMs, postgresProblem, table, withPgliteStore, withPostgresStore } from "./support.js";

const SIZES = (process.env.BENCH_PIPELINE_SIZES ?? "10000,50000").split(",").map(Number);
const QUEUED = Number(process.env.BENCH_PIPELINE_QUEUED ?? 50_000);
const PGLITE_MAX = Number(process.env.BENCH_PIPELINE_PGLITE_MAX ?? 10_000);
const REPEAT = 15;
const STATUSES = ["pending", "running", "blocked", "completed", "failed", "cancelled"] as const;

/**
 * Pipeline `i`'s three step statuses: the newest 60 are 20 running, 20 pending and 20 blocked
 * (failed, then two waiting); of the rest one in 100 failed, one in 200 cancelled, the others
 * completed.
 */
const STEP_STATUS = `CASE
  WHEN p.i > $2::int - 20 THEN (ARRAY['completed','running','pending'])[s]
  WHEN p.i > $2::int - 40 THEN 'pending'
  WHEN p.i > $2::int - 60 THEN (ARRAY['failed','pending','pending'])[s]
  WHEN p.i % 100 = 0 THEN (ARRAY['completed','failed','cancelled'])[s]
  WHEN p.i % 200 = 1 THEN (ARRAY['completed','cancelled','cancelled'])[s]
  ELSE 'completed' END`;

async function fill(store: TaskStore, size: number): Promise<void> {
  // Ids ordered by `i` (zero-padded), as UUID v7 ids are by time.
  await store.db.query(
    `INSERT INTO ph_pipelines (id, title, origin, steps, task_ids, created_at)
     SELECT 'p' || lpad(i::text, 8, '0'), 'pipeline ' || i, 'api',
            (SELECT jsonb_agg(jsonb_build_object('name', 's' || s, 'taskId', 'p' || lpad(i::text, 8, '0') || '-' || s, 'after', '[]'::jsonb)) FROM generate_series(1, 3) s),
            ARRAY(SELECT 'p' || lpad(i::text, 8, '0') || '-' || s FROM generate_series(1, 3) s), now()
     FROM generate_series(1, $1::int) i`,
    [size],
  );
  await store.db.query(
    `INSERT INTO ph_tasks (id, type, title, params, status, priority, rank_at, attempts, max_attempts, timeout_ms, drive_id, document_id,
                           created_at, started_at, finished_at, updated_at, locked_by, lease_expires_at)
     SELECT 'p' || lpad(p.i::text, 8, '0') || '-' || s, 'cli', 'step ' || s,
            jsonb_build_object('command', 'true', 'tags', jsonb_build_array('pipeline:p' || lpad(p.i::text, 8, '0'))),
            st, 50, now(), 1, 3, 60000, 'drive-' || (p.i % 10), 'doc-' || p.i, now(), now(),
            CASE WHEN st IN ('completed', 'failed', 'cancelled') THEN now() END, now(),
            CASE WHEN st = 'running' THEN 'bench' END, CASE WHEN st = 'running' THEN now() + interval '1 hour' END
     FROM generate_series(1, $1::int) p(i), generate_series(1, 3) s, LATERAL (SELECT ${STEP_STATUS.replaceAll("$2", "$1")} AS st) x`,
    [size],
  );
  await store.db.query(
    `INSERT INTO ph_tasks (id, type, title, params, status, priority, rank_at, max_attempts, timeout_ms, drive_id, document_id)
     SELECT 'q' || lpad(i::text, 8, '0'), 'cli', 'queued ' || i, '{"command":"true"}'::jsonb, 'pending', 50, now(), 3, 60000, 'drive-' || (i % 10), 'doc-q' || i
     FROM generate_series(1, $1::int) i`,
    [QUEUED],
  );
  await store.db.query(`INSERT INTO ph_task_tags (task_id, tag) ${tagRowsFrom("ph_tasks")}`);
  for (const table of ["ph_tasks", "ph_task_tags", "ph_pipelines"]) await store.db.query(`VACUUM ANALYZE ${table}`);
}

const timeMs = (read: () => Promise<unknown>) => medianMs(read, REPEAT);

async function measure(label: string, store: TaskStore, size: number): Promise<(string | number)[]> {
  await fill(store, size);
  const pipelines = new PipelineStore(store.db);
  const cells: string[] = [];
  for (const status of [...STATUSES, "none"]) {
    // "none": a status no pipeline has now (none is pending once its newest are marked running).
    if (status === "none") await store.db.query("UPDATE ph_tasks SET status = 'running' WHERE status = 'pending' AND id LIKE 'p%'");
    const asked = status === "none" ? "pending" : status;
    const page = await pipelines.list(25, 0, asked);
    const expected = status === "none" ? 0 : 20;
    if (["pending", "running", "blocked", "none"].includes(status) && page.length !== expected) throw new Error(`${status}: ${page.length} pipelines, ${expected} expected`);
    cells.push(fmt(await timeMs(() => pipelines.list(25, 0, asked)), 1));
  }
  const unfiltered = await timeMs(() => pipelines.list(25, 0));
  return [label, fmt(size), fmt(QUEUED), ...cells, fmt(unfiltered, 1)];
}

export async function benchPipelineListCost(): Promise<string> {
  const title = `### A page of pipelines of one status, with pipelines kept and a queue of other tasks (median of ${REPEAT})`;
  const rows: (string | number)[][] = [];
  for (const size of SIZES.filter((s) => s <= PGLITE_MAX)) rows.push(await withPgliteStore((store) => measure("PGlite", store, size)));
  const problem = await postgresProblem();
  for (const size of problem ? [] : SIZES) rows.push(await withPostgresStore((store) => measure("PostgreSQL", store, size)));
  const note = problem ? `\n\nPostgreSQL not measured: ${problem}` : "";
  const headers = ["store", "pipelines kept", "other tasks queued", ...STATUSES.map((s) => `${s}, ms`), "a status none has, ms", "unfiltered, ms"];
  return `${title}\n\n${table(headers, rows)}${note}`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(await benchPipelineListCost());
  process.exit(0);
}
