/**
 * The last hour's ends, as /api/stats shows them, come from a rollup (migration 027) plus the few
 * ends since its mark: every end is counted once whichever side it is on, several workers rolling
 * up at once roll up once, and a refresh reads from ph_tasks only the ends since the mark — not the
 * hour's (1.9 s per refresh with 1,000,000 ends in the hour on PostgreSQL before).
 */
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import type { Queryable } from "../src/store/db.js";
import { bucketMiddleMs, percentileMs, runBucket } from "../src/store/run-time-buckets.js";
import { rollUpFinished } from "../src/store/sql/roll-up-finished.js";
import { selectRollupMark } from "../src/store/sql/select-rollup-mark.js";
import { TaskStore } from "../src/store/task-store.js";
import { testManager } from "./support/manager.js";
import { explain, recordStatements, rowsRead } from "./support/query-plans.js";
import { waitFor } from "./support/process.js";
import { BACKENDS, dropSchema, postgresAvailable, storePerTest, TEST_DATABASE_URL, uniqueSchema } from "./support/stores.js";

interface End { id: string; type: string; status: "completed" | "failed" | "cancelled"; secondsAgo: number; runMs: number; code?: string }

/**
 * 300 ends over the last 50 minutes (in the window) — the newest 1 s old, the next 20 s (either side
 * of the rollup's 15 s of settling, with room for a slow machine) — and 40 some 85 minutes ago
 * (outside the window and the rollup's reach).
 */
function ends(): End[] {
  const all: End[] = [];
  for (let i = 1; i <= 340; i++) {
    const status = i % 10 === 0 ? "failed" : i % 25 === 0 ? "cancelled" : "completed";
    all.push({ id: `end-${String(i).padStart(3, "0")}`, type: `type-${i % 2}`, status, secondsAgo: i === 1 ? 1 : i <= 300 ? i * 10 : 5_100 + i, runMs: i * 37, ...(status === "failed" ? { code: `code-${i % 3}` } : {}) });
  }
  return all;
}

async function insertEnds(db: Queryable, rows: readonly End[]): Promise<void> {
  await db.query(
    `INSERT INTO ph_tasks (id, type, title, status, priority, rank_at, attempts, max_attempts, timeout_ms, finished_at, run_ms, error)
     SELECT e.id, e.type, e.id, e.status, 50, now(), 1, 1, 60000, now() - make_interval(secs => e.ago), e.run_ms,
            CASE WHEN e.code IS NOT NULL THEN jsonb_build_object('code', e.code, 'message', 'failed: ' || e.id) END
     FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::int[], $6::text[]) AS e(id, type, status, ago, run_ms, code)`,
    [rows.map((e) => e.id), rows.map((e) => e.type), rows.map((e) => e.status), rows.map((e) => e.secondsAgo), rows.map((e) => e.runMs), rows.map((e) => e.code ?? null)],
  );
}

/** What the overview must say of `rows` (those within the last 50 minutes). */
function expected(rows: readonly End[]) {
  const inWindow = rows.filter((e) => e.secondsAgo <= 3_000);
  const types = [...new Set(inWindow.map((e) => e.type))].sort().map((type) => {
    const of = inWindow.filter((e) => e.type === type);
    const count = (status: End["status"]) => of.filter((e) => e.status === status).length;
    return { type, completed: count("completed"), failed: count("failed"), cancelled: count("cancelled"), runs: of.filter((e) => e.status === "completed").map((e) => e.runMs).sort((a, b) => a - b) };
  });
  const failures = new Map<string, { count: number; latest: End }>();
  for (const e of inWindow.filter((x) => x.status === "failed")) {
    const key = `${e.type} ${e.code}`;
    const seen = failures.get(key);
    failures.set(key, { count: (seen?.count ?? 0) + 1, latest: !seen || e.secondsAgo < seen.latest.secondsAgo ? e : seen.latest });
  }
  return { total: inWindow.length, types, failures };
}

/** The exact nearest-rank percentile. */
const exactPercentile = (sorted: readonly number[], p: number) => sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1]!;

type Overview = Awaited<ReturnType<TaskStore["overview"]>>;

function expectOverview(overview: Overview, rows: readonly End[]): void {
  const want = expected(rows);
  expect(overview.perMinute.reduce((n, r) => n + r.count, 0)).toBe(want.total);
  expect(overview.types.map(({ type, completed, failed, cancelled }) => ({ type, completed, failed, cancelled }))).toEqual(want.types.map(({ runs: _runs, ...counts }) => counts));
  for (const t of want.types) {
    const got = overview.types.find((r) => r.type === t.type)!;
    if (t.runs.length === 0) {
      expect([got.p50_ms, got.p95_ms]).toEqual([null, null]);
      continue;
    }
    // Within 5 % of the exact percentile (run-time-buckets.ts).
    expect(Math.abs(got.p50_ms! - exactPercentile(t.runs, 0.5)) / exactPercentile(t.runs, 0.5)).toBeLessThanOrEqual(0.05);
    expect(Math.abs(got.p95_ms! - exactPercentile(t.runs, 0.95)) / exactPercentile(t.runs, 0.95)).toBeLessThanOrEqual(0.05);
  }
  expect(Object.fromEntries(overview.failures.map((f) => [`${f.type} ${f.code}`, { count: f.count, last: f.last_task_id, message: f.last_message }]))).toEqual(
    Object.fromEntries([...want.failures].map(([key, f]) => [key, { count: f.count, last: f.latest.id, message: `failed: ${f.latest.id}` }])),
  );
}

/** The ends a rollup takes: settled (15 s old) and within its reach (80 minutes). */
const settled = (rows: readonly End[]) => rows.filter((e) => e.secondsAgo > 15 && e.secondsAgo <= 80 * 60).length;

const rolledUp = async (db: Queryable) => Number((await db.query<{ n: string }>("SELECT coalesce(sum(count), 0) AS n FROM ph_finished_minutes")).rows[0]!.n);

describe("run-time buckets", () => {
  it("give every run time from 1 ms to a day back within 5 %", () => {
    for (let ms = 1; ms < 86_400_000; ms = Math.ceil(ms * 1.37)) expect(Math.abs(bucketMiddleMs(runBucket(ms)) - ms) / ms).toBeLessThanOrEqual(0.05);
    expect(percentileMs(new Map(), 0.5)).toBeNull();
    const runs = new Map([[runBucket(100), 50], [runBucket(1_000), 45], [runBucket(10_000), 5]]);
    expect(percentileMs(runs, 0.5)).toBe(bucketMiddleMs(runBucket(100)));
    expect(percentileMs(runs, 0.95)).toBe(bucketMiddleMs(runBucket(1_000)));
    expect(percentileMs(runs, 0.96)).toBe(bucketMiddleMs(runBucket(10_000)));
  });
});

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`the ended tasks' rollup on ${backend.name}`, () => {
    const openStore = storePerTest(backend);
    const others: TaskStore[] = [];
    afterEach(async () => {
      for (const store of others.splice(0)) await store.close();
    });

    it("counts every end of the hour once, rolled up or since the mark, with run times and the latest failure", async () => {
      const { store } = await openStore();
      const rows = ends();
      await insertEnds(store.db, rows);

      const first = await store.overview(60);
      expect(await rolledUp(store.db)).toBe(settled(rows)); // not the newest (seconds old), nor those 85 minutes old
      expect(settled(rows)).toBe(299);
      expectOverview(first, rows);

      // Ends since the mark (not rolled up yet): counted from ph_tasks, once.
      const fresh: End[] = [
        { id: "fresh-1", type: "type-0", status: "completed", secondsAgo: 1, runMs: 5 },
        { id: "fresh-2", type: "type-1", status: "failed", secondsAgo: 0, runMs: 9, code: "code-1" },
        { id: "fresh-3", type: "type-2", status: "cancelled", secondsAgo: 2, runMs: 0 },
      ];
      await insertEnds(store.db, fresh);
      const second = await store.overview(60);
      expect(await rolledUp(store.db)).toBe(299); // not due again within seconds
      expectOverview(second, [...rows, ...fresh]);
      expect(second.failures.find((f) => f.type === "type-1" && f.code === "code-1")?.last_task_id).toBe("fresh-2");

      // Rolled-up minutes leave the window as time goes by (moved two hours back here): only the ends since the mark stay.
      for (const [table, column] of [["ph_finished_minutes", "minute"], ["ph_failure_minutes", "minute"], ["ph_run_times", "block"]] as const) {
        await store.db.query(`UPDATE ${table} SET ${column} = ${column} - interval '2 hours'`);
      }
      const later = await store.overview(60);
      expect(later.perMinute.reduce((n, r) => n + r.count, 0)).toBe(1 + fresh.length); // end-001 (1 s old) and the three fresh ones
      expect(later.failures.map((f) => [f.type, f.code, f.count])).toEqual([["type-1", "code-1", 1]]);
    });

    it("rolls up once when two workers do it at the same moment", async () => {
      const { store, schema } = await openStore();
      await insertEnds(store.db, ends());
      const other = schema ? await TaskStore.open({ databaseUrl: TEST_DATABASE_URL, schema }) : store;
      if (other !== store) others.push(other);
      const { through, upTo } = await selectRollupMark(store.db);
      const done = await Promise.all([rollUpFinished(store.db, through, upTo), rollUpFinished(other.db, through, upTo)]);
      expect(done.filter(Boolean)).toHaveLength(1);
      expect(await rolledUp(store.db)).toBe(299);
      expectOverview(await other.overview(60), ends());
    });

    it("takes up each rollup exactly where the last stopped, to the microsecond", async () => {
      const { store } = await openStore();
      expect(await store.rollUpEnds()).toBe(true); // the first, over an empty store
      const mark = await selectRollupMark(store.db);
      expect(mark.due).toBe(false);
      // The mark comes back as it is stored (a Date holds milliseconds; the mark has no more).
      expect((await store.db.query<{ same: boolean }>("SELECT through = $1::timestamptz AS same FROM ph_finished_rollup", [mark.through])).rows[0]?.same).toBe(true);

      // A mark a minute back, and ends every microsecond around the instant a rollup will stop at.
      const back = new Date(mark.through.getTime() - 60_000);
      await store.db.query("UPDATE ph_finished_rollup SET through = $1", [back]);
      const cut = new Date(back.getTime() + 20_000);
      await store.db.query(
        `INSERT INTO ph_tasks (id, type, title, status, priority, rank_at, attempts, max_attempts, timeout_ms, finished_at, run_ms)
         SELECT 'edge-' || k, 'type-0', 'edge', 'completed', 50, now(), 1, 1, 60000, $1::timestamptz + make_interval(secs => (k - 100) / 1000000.0), 10
         FROM generate_series(0, 199) k`,
        [cut],
      );
      expect(await rollUpFinished(store.db, back, cut)).toBe(true);
      expect(await rolledUp(store.db)).toBe(100); // those before the cut
      const next = await selectRollupMark(store.db);
      expect(next.through.getTime()).toBe(cut.getTime());
      expect(next.due).toBe(true);
      expect(await store.rollUpEnds()).toBe(true); // and the rest, from the cut on
      expect(await rolledUp(store.db)).toBe(200);
      expect((await store.overview(60)).perMinute.reduce((n, r) => n + r.count, 0)).toBe(200);
    });

    it("is kept up by the workers between stats reads, so the first read after a busy hour has only seconds to roll up", async () => {
      const { store } = await openStore();
      await insertEnds(store.db, ends());
      const manager = testManager(store, { rollupIntervalMs: 200 });
      await manager.start();
      try {
        await waitFor(async () => ((await rolledUp(store.db)) === 299 ? true : undefined), 10_000, "the worker's rollup");
      } finally {
        await manager.stop();
      }
      expect((await selectRollupMark(store.db)).due).toBe(false);
    });

    it("reads from ph_tasks only the ends since the mark on a refresh, not the hour's", async () => {
      const { store } = await openStore();
      await insertEnds(store.db, ends());
      // And days of history before it, as TASK_RESULT_TTL keeps (failures too).
      const history = Array.from({ length: 3000 }, (_, i): End => (i % 3 === 0 ? { id: `old-${i}`, type: "type-0", status: "failed", secondsAgo: 86_400 + i * 60, runMs: 40, code: "code-0" } : { id: `old-${i}`, type: "type-0", status: "completed", secondsAgo: 86_400 + i * 60, runMs: 40 }));
      await insertEnds(store.db, history);
      await store.db.query("ANALYZE ph_tasks");
      await store.overview(60); // the rollup
      await insertEnds(store.db, [{ id: "fresh", type: "type-0", status: "failed", secondsAgo: 0, runMs: 3, code: "code-0" }]);
      const sinceMark = ends().filter((e) => e.secondsAgo <= 15).length + 1; // 2 of the 341
      const statements = (await recordStatements(store.db, () => store.overview(60))).filter((s) => s.sql.includes("ph_tasks"));
      expect(statements.length).toBeGreaterThanOrEqual(4); // the ends, the run times, the failures, the queue
      for (const statement of statements) {
        // (sequential scans off: on a table this small the planner would rather read it all, as it would not with a history kept)
        expect(rowsRead(await explain(store.db, statement, { analyze: true, seqScanOff: true }), "ph_tasks"), statement.sql).toBeLessThanOrEqual(sinceMark);
      }
    });
  });
}

describe.skipIf(!postgresAvailable)("the ended tasks' rollup and a finish still in flight (PostgreSQL)", () => {
  it("does not pass the start of a transaction still open, so an end that commits late is counted", async () => {
    const schema = uniqueSchema("rollup");
    const store = await TaskStore.open({ databaseUrl: TEST_DATABASE_URL, schema });
    // Another worker of the same store: its sessions carry the store's application name.
    const { rows: named } = await store.db.query<{ application_name: string }>("SELECT current_setting('application_name') AS application_name");
    const finisher = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema}`, application_name: named[0]!.application_name });
    await finisher.connect();
    try {
      await insertEnds(store.db, [{ id: "late", type: "type-0", status: "completed", secondsAgo: 3_600 * 3, runMs: 1 }]);
      expect(await store.rollUpEnds()).toBe(true);
      // A finish that waits (on a lock, say) for longer than the rollup's 15 s of settling:
      // finished_at is its transaction's start, and it commits after the rollup.
      await finisher.query("BEGIN");
      await finisher.query("UPDATE ph_tasks SET finished_at = now() WHERE id = 'late'");
      const { rows } = await finisher.query<{ started: Date }>("SELECT now() AS started");
      await new Promise((resolve) => setTimeout(resolve, 21_000));
      const mark = await selectRollupMark(store.db);
      expect(mark.upTo.getTime()).toBeLessThanOrEqual(rows[0]!.started.getTime());
      await store.rollUpEnds();
      await finisher.query("COMMIT");
      expect((await store.overview(60)).perMinute.reduce((n, r) => n + r.count, 0)).toBe(1);
    } finally {
      await finisher.end();
      await store.close();
      await dropSchema(schema);
    }
  }, 40_000);
});
