/**
 * The reads behind the dashboard's refresh (/api/stats and the workers, every 2 s) and a /metrics scrape must not
 * read the whole retained history (1,000,000 finished tasks kept made each refresh take 660 ms on
 * PostgreSQL; on PGlite the worker's claims wait for it). Each statement they send is explained
 * with sequential scans disabled: where the planner still has to scan ph_tasks whole, no index
 * serves the read and its cost grows with TASK_RESULT_TTL.
 */
import { describe, expect, it } from "vitest";
import { TaskMetrics } from "../src/metrics.js";
import type { Queryable } from "../src/store/db.js";
import type { TaskStore } from "../src/store/task-store.js";
import { WorkerStore } from "../src/store/worker-store.js";
import { brief, explain, planNodes, recordStatements, type PlanNode } from "./support/query-plans.js";
import { BACKENDS, storePerTest } from "./support/stores.js";

/** Sequential scans of one of `tables`, anywhere in a plan. */
const wholeTableScans = (plan: PlanNode, tables: readonly string[] = ["ph_tasks"]) =>
  planNodes(plan).filter((n) => n["Node Type"] === "Seq Scan" && tables.includes(String(n["Relation Name"]))).map((n) => `Seq Scan on ${String(n["Relation Name"])}`);

/** Finished tasks two hours ago and in the last minutes, and some waiting and running. */
async function fill(db: Queryable): Promise<void> {
  await db.query(
    `INSERT INTO ph_tasks (id, type, title, status, priority, rank_at, attempts, max_attempts, timeout_ms, created_at, started_at, finished_at, run_ms, locked_by, lease_expires_at)
     SELECT 'task-' || i, 'type-' || (i % 3), 't' || i,
            CASE WHEN i <= 5 THEN 'running' WHEN i <= 20 THEN 'pending' WHEN i % 7 = 0 THEN 'failed' ELSE 'completed' END,
            50, now(), 1, 3, 60000, now() - interval '3 hours', now() - interval '3 hours',
            CASE WHEN i <= 20 THEN NULL WHEN i <= 200 THEN now() - interval '2 hours' ELSE now() - make_interval(secs => i) END,
            CASE WHEN i <= 20 THEN NULL ELSE i END,
            CASE WHEN i <= 5 THEN 'w' END, CASE WHEN i <= 5 THEN now() + interval '1 minute' END
     FROM generate_series(1, 400) i`,
  );
  await db.query("ANALYZE ph_tasks");
}

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`stats reads on ${backend.name}`, () => {
    const openStore = storePerTest(backend);

    /** The statements `read` sends that name ph_tasks. */
    const recorded = async (store: TaskStore, read: () => Promise<unknown>) => (await recordStatements(store.db, read)).filter((q) => q.sql.includes("ph_tasks"));

    it("counts what waits and runs now and what ended in the last hour, each through an index", async () => {
      const { store } = await openStore();
      await fill(store.db);

      const overview = await store.overview(60);
      const active = Object.fromEntries(overview.active.map((r) => [`${r.status} ${r.type}`, r.count]));
      expect(active).toEqual({ "running type-0": 1, "running type-1": 2, "running type-2": 2, "pending type-0": 5, "pending type-1": 5, "pending type-2": 5 });
      // Tasks 201–400 ended in the last hour (the 180 before them two hours ago): 29 failed (the multiples of 7).
      const lastHour = overview.types.reduce((sum, t) => ({ completed: sum.completed + t.completed, failed: sum.failed + t.failed }), { completed: 0, failed: 0 });
      expect(lastHour).toEqual({ completed: 171, failed: 29 });
      expect(overview.perMinute.reduce((n, r) => n + r.count, 0)).toBe(200);
      expect(overview.failures.reduce((n, r) => n + r.count, 0)).toBe(29);
      expect(new Set(overview.failures.map((r) => r.code))).toEqual(new Set(["unknown"]));

      const metrics = new TaskMetrics({ store, types: ["type-0"], defaultMetrics: false });
      const statements = [
        ...(await recorded(store, () => store.overview(60))),
        ...(await recorded(store, () => metrics.registry.metrics())),
        ...(await recorded(store, () => new WorkerStore(store.db).list())), // the dashboard's Workers card
      ];
      expect(statements.length).toBeGreaterThanOrEqual(3);
      const scans: string[] = [];
      for (const statement of statements) {
        scans.push(...wholeTableScans(await explain(store.db, statement, { seqScanOff: true })).map((scan) => `${scan}: ${brief(statement.sql, 80)}`));
      }
      expect(scans).toEqual([]);
    });

    it("the retention cleanup (hourly, on every worker) reads no table whole: the tasks due, their tags, titles and entries by index", async () => {
      const { store } = await openStore();
      await fill(store.db);
      await store.db.query("INSERT INTO ph_task_events (task_id, kind, stream, data, bytes) SELECT id, 'output', 'stdout', 'x', 1 FROM ph_tasks");
      await store.db.query("INSERT INTO ph_task_tags (tag, task_id) SELECT 'tag-' || (i % 5), id FROM (SELECT id, row_number() OVER () AS i FROM ph_tasks) t");
      await store.db.query("INSERT INTO ph_task_titles (task_id, title) SELECT id, title FROM ph_tasks");
      await store.db.query("ANALYZE");
      const [cleanup] = await recorded(store, () => store.deleteExpired(24 * 3600 * 1000));
      expect(wholeTableScans(await explain(store.db, cleanup!, { seqScanOff: true }), ["ph_tasks", "ph_task_events", "ph_task_tags", "ph_task_titles"])).toEqual([]);
      // And it does its job: the tasks that ended two hours ago go under a one-hour retention, with their rows.
      expect(await store.deleteExpired(3600 * 1000)).toBe(180);
      const left = async (table: string) => (await store.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;
      expect([await left("ph_tasks"), await left("ph_task_events"), await left("ph_task_tags"), await left("ph_task_titles")]).toEqual([220, 220, 220, 220]);
    });
  });
}
