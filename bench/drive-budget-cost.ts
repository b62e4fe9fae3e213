/**
 * What holding each drive to its own budget costs (TASK_BUDGET_USD_PER_DRIVE_PER_DAY): the read of
 * one drive's last 24 hours that a worker makes as each of the drive's Claude tasks starts
 * (HolderBudgets.spentFor) — and the same for a person (TASK_BUDGET_USD_PER_PERSON_PER_DAY), whose
 * read goes through another column and index (asked_by, migration 045) — beside the whole store's read that every worker makes every few seconds
 * with a daily budget (SpendBudget.refresh) and the spend report (GET /api/spend, the drives past
 * their budget included) — on PGlite and PostgreSQL, with a day's costs of many drives in the store.
 * Run alone: `npx tsx bench/drive-budget-cost.ts`.
 */
import { pathToFileURL } from "node:url";
import { SpendStore } from "../src/store/spend-store.js";
import type { TaskStore } from "../src/store/task-store.js";
import { DRIVE_HOLDER, PERSON_HOLDER } from "../src/tasks/budget-holders.js";
import { HolderBudgets } from "../src/tasks/holder-budget.js";
import { BUDGET_WINDOW_MS } from "../src/tasks/spend-budget.js";
import { spendReport } from "../src/tasks/spend-report.js";
import { fmt, medianMs, postgresProblem, table, withPgliteStore, withPostgresStore } from "./support.js";

/** A day of costs: this many drives, this many runs each (spread over the last 24 hours), one busy drive with many more, and the owner's. */
const DRIVES = Number(process.env.BENCH_DRIVES ?? 1000);
const RUNS_PER_DRIVE = Number(process.env.BENCH_RUNS_PER_DRIVE ?? 50);
const BUSY_DRIVE_RUNS = 10_000;
const REPEAT = 50;

async function fill(store: TaskStore): Promise<number> {
  // Generated in the store: one statement per part, the same on both engines.
  await store.db.query(
    `INSERT INTO ph_run_costs (task_id, attempt, task_type, drive_id, writers_drive, asked_by, cost_usd, recorded_at, worker_id)
     SELECT 'd' || d || '-' || r, 1, 'claude-code', 'drive-' || d, 'drive-' || d, 'person-' || d, 0.01, now() - make_interval(secs => random() * 86000), 'w'
       FROM generate_series(1, $1::int) d, generate_series(1, $2::int) r`,
    [DRIVES, RUNS_PER_DRIVE],
  );
  await store.db.query(
    `INSERT INTO ph_run_costs (task_id, attempt, task_type, drive_id, writers_drive, asked_by, cost_usd, recorded_at, worker_id)
     SELECT 'busy-' || r, 1, 'claude-code', 'busy', 'busy', 'busy-person', 0.01, now() - make_interval(secs => random() * 86000), 'w' FROM generate_series(1, $1::int) r`,
    [BUSY_DRIVE_RUNS],
  );
  await store.db.query(
    `INSERT INTO ph_run_costs (task_id, attempt, task_type, cost_usd, recorded_at, worker_id)
     SELECT 'own-' || r, 1, 'claude-agent', 0.02, now() - make_interval(secs => random() * 86000), 'w' FROM generate_series(1, $1::int) r`,
    [RUNS_PER_DRIVE * 10],
  );
  await store.db.query("ANALYZE ph_run_costs");
  return DRIVES * RUNS_PER_DRIVE + BUSY_DRIVE_RUNS + RUNS_PER_DRIVE * 10;
}

async function measure(store: TaskStore): Promise<(string | number)[][]> {
  const rows = await fill(store);
  const spend = new SpendStore(store.db);
  // A budget the busy drive is past ($100 of $1) and the others are not ($0.50).
  const budgets = new HolderBudgets(DRIVE_HOLDER, spend, 1);
  const of = (driveId: string) => ({ source: { driveId, origin: "document", chainDepth: 0 } });
  const typical = await medianMs(() => budgets.spentFor(of(`drive-${Math.ceil(DRIVES / 2)}`)), REPEAT);
  const busy = await medianMs(() => budgets.spentFor(of("busy")), REPEAT);
  const people = new HolderBudgets(PERSON_HOLDER, spend, 1);
  const by = (person: string) => ({ source: { by: person, chainDepth: 0 } });
  const person = await medianMs(() => people.spentFor(by(`person-${Math.ceil(DRIVES / 2)}`)), REPEAT);
  const busyPerson = await medianMs(() => people.spentFor(by("busy-person")), REPEAT);
  // The whole store's spend is ≈ $620: a $10,000 budget has room, a $50 one is spent.
  const under = await medianMs(() => spend.inWindow(BUDGET_WINDOW_MS, 10_000), REPEAT);
  const past = await medianMs(() => spend.inWindow(BUDGET_WINDOW_MS, 50), REPEAT);
  const report = await medianMs(() => spendReport(spend, { perDay: 50, perDrive: 1 }, 7), 10);
  return [
    [`a drive's read as its task starts (${fmt(RUNS_PER_DRIVE)} runs in 24 h)`, fmt(rows), fmt(typical, 2)],
    [`a busy drive's, past its budget (${fmt(BUSY_DRIVE_RUNS)} runs)`, fmt(rows), fmt(busy, 2)],
    [`a person's read as their task starts (${fmt(RUNS_PER_DRIVE)} runs in 24 h)`, fmt(rows), fmt(person, 2)],
    [`a busy person's, past their budget (${fmt(BUSY_DRIVE_RUNS)} runs)`, fmt(rows), fmt(busyPerson, 2)],
    ["the whole store's under the daily budget (each worker every 5 s)", fmt(rows), fmt(under, 2)],
    ["the whole store's past it (when it has room again)", fmt(rows), fmt(past, 2)],
    ["the spend report (GET /api/spend, 7 days, drives past their budget)", fmt(rows), fmt(report, 1)],
  ];
}

/** Pending tasks in the store when a worker starts, and how many of them wait for their drive's budget or for later. */
const PENDING = Number(process.env.BENCH_PENDING ?? 200_000);
const HELD = 100;
const LATER = 2000;

/**
 * The look a worker takes at start at the tasks waiting for their drive's budget (TaskBudgets.wakeHolderHolds,
 * sql/holder-budgets/wake-holder-budget-holds.ts): with PENDING tasks queued, LATER of them for later and HELD
 * of those sent back by their drive's budget. Each round puts the held ones back first (not timed).
 */
async function measureWake(store: TaskStore): Promise<(string | number)[][]> {
  await store.db.query(
    `INSERT INTO ph_tasks (id, type, title, status, priority, rank_at, max_attempts, timeout_ms, run_at, source)
     SELECT 'p' || i, 'claude-code', 'queued ' || i, 'pending', 50, now(), 3, 60000,
            CASE WHEN i <= $2::int THEN now() + interval '1 hour' ELSE now() - interval '1 second' END,
            jsonb_build_object('driveId', 'drive-' || (i % 100), 'origin', 'document')
       FROM generate_series(1, $1::int) i`,
    [PENDING, LATER],
  );
  await store.db.query(
    `INSERT INTO ph_task_events (task_id, kind, stream, data, bytes)
     SELECT 'p' || i, 'status', NULL, CASE WHEN i <= $1::int THEN '{"status":"pending","reason":"drive budget spent"}' ELSE '{"status":"pending","attempt":0}' END, 0
       FROM generate_series(1, $2::int) i`,
    [HELD, LATER],
  );
  await store.db.query("ANALYZE ph_tasks");
  await store.db.query("ANALYZE ph_task_events");
  const spend = new SpendStore(store.db);
  const times: number[] = [];
  let woken = 0;
  for (let round = 0; round < 10; round++) {
    await store.db.query("UPDATE ph_tasks SET run_at = now() + interval '1 hour' WHERE id = ANY($1)", [Array.from({ length: HELD }, (_, i) => `p${i + 1}`)]);
    const started = performance.now();
    woken = (await spend.wakeHolds()).length;
    times.push(performance.now() - started);
  }
  times.sort((x, y) => x - y);
  return [[`the look at start (${fmt(PENDING)} queued, ${fmt(LATER)} for later, ${fmt(HELD)} held)`, fmt(PENDING), fmt(times[Math.floor(times.length / 2)] ?? 0, 1), fmt(woken)]];
}

export async function benchDriveBudgetCost(): Promise<string> {
  const lines = ["### Budget per drive", "", `${fmt(DRIVES)} drives' writers, ${fmt(RUNS_PER_DRIVE)} runs each in the last 24 hours, one busy drive of ${fmt(BUSY_DRIVE_RUNS)}; median of ${REPEAT} reads (the report: of 10).`, ""];
  lines.push("PGlite:", "", table(["read", "costs in the store", "ms"], await withPgliteStore(measure)), "");
  const problem = await postgresProblem();
  lines.push("PostgreSQL:", "", problem ? `not measured: ${problem}` : table(["read", "costs in the store", "ms"], await withPostgresStore(measure)), "");
  lines.push("A worker's look at start at the tasks its drive's budget sent back (median of 10):", "");
  const wake = [...(await withPgliteStore(measureWake)).map((row) => ["PGlite", ...row]), ...(problem ? [] : (await withPostgresStore(measureWake)).map((row) => ["PostgreSQL", ...row]))];
  lines.push(table(["store", "statement", "tasks pending", "ms", "woken"], wake));
  return lines.join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(await benchDriveBudgetCost());
  process.exit(0);
}
