/**
 * What an idle agent sends its task store on its own — heartbeats, lease recovery, the sweeps of
 * expired and doomed tasks, the workers list, the cron and webhook pollers, a task's claim and
 * finish — must not read a table that grows with the retained history whole: each runs every
 * second or so on every worker, and on PGlite the claims wait for it. The retention cleanup did
 * (it read the whole event log every hour: 4.5 s at 1,000,000 tasks kept). Every statement recorded
 * over a few seconds of a real agent is explained with sequential scans disabled; a plan that
 * still scans one of those tables has no index to use, and its cost grows with TASK_RESULT_TTL.
 * (A statement that calls a PL/pgSQL function, such as the claim, shows the call, not its inside:
 * the claim's cost is measured by `npm run bench`.)
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAgent, type Agent } from "../src/agent.js";
import { loadConfig } from "../src/config.js";
import { silentLogger } from "../src/logger.js";
import type { Db, Queryable } from "../src/store/db.js";
import { WebhookStore } from "../src/store/webhook-store.js";
import { AuditStore } from "../src/store/audit-store.js";
import { waitFor } from "./support/process.js";
import { brief, explain, planNodes, recordStatements, type PlanNode, type Statement } from "./support/query-plans.js";

/** Tables whose size follows the retained history (the rest hold settings: a few rows each). */
const GROWING = ["ph_tasks", "ph_task_events", "ph_task_tags", "ph_task_dependencies", "ph_webhook_deliveries", "ph_audit"];

/**
 * Plan nodes that read a growing table whole: a sequential scan, or a whole index walked from end
 * to end (no index condition) with a filter dropping rows on the way — newest first until a page is
 * full, every row when few match. (A walk without a filter, the recent list's, stops at its page; a
 * partial index holds only its predicate's rows — the waiting or running tasks, a few.)
 */
function wholeTableScans(plan: PlanNode, partial: ReadonlySet<string>): string[] {
  return planNodes(plan).flatMap((node) => {
    const relation = String(node["Relation Name"]);
    const type = String(node["Node Type"]);
    const filteredWalk = (type === "Index Scan" || type === "Index Only Scan") && node["Index Cond"] === undefined && node.Filter !== undefined && !partial.has(String(node["Index Name"]));
    return GROWING.includes(relation) && (type === "Seq Scan" || filteredWalk) ? [`${type} of ${relation}`] : [];
  });
}

/** Finished tasks with their event-log entries, tags, dependencies and webhook deliveries; audit log entries. */
async function history(db: Queryable): Promise<void> {
  await db.query(
    `INSERT INTO ph_tasks (id, type, title, params, status, priority, rank_at, attempts, max_attempts, timeout_ms, finished_at, drive_id, document_id)
     SELECT 'old-' || lpad(i::text, 6, '0'), 'cli', 'old ' || i, '{"command":"true"}'::jsonb || jsonb_build_object('tags', jsonb_build_array('batch-' || (i % 100))),
            CASE WHEN i % 9 = 0 THEN 'failed' ELSE 'completed' END, 50, now(), 1, 3, 60000, now() - make_interval(secs => i), 'drive-' || (i % 7), 'doc-' || i
     FROM generate_series(1, 3000) i`,
  );
  await db.query("INSERT INTO ph_task_events (task_id, kind, stream, data, bytes) SELECT id, 'output', 'stdout', 'x', 1 FROM ph_tasks WHERE id LIKE 'old-%'");
  await db.query("INSERT INTO ph_task_tags (tag, task_id) SELECT 'batch-' || (substr(id, 5)::int % 100), id FROM ph_tasks WHERE id LIKE 'old-%'");
  await db.query("INSERT INTO ph_task_dependencies (task_id, depends_on) SELECT id, 'old-000001' FROM ph_tasks WHERE id LIKE 'old-%' AND id <> 'old-000001'");
  await db.query(
    `INSERT INTO ph_webhook_deliveries (id, webhook_id, task_id, event, payload, status, attempts, delivered_at)
     SELECT 'd-' || id, 'alerts', id, 'task.completed', '{}'::jsonb, 'delivered', 1, now() FROM ph_tasks WHERE id LIKE 'old-%'`,
  );
  await db.query("INSERT INTO ph_audit (at, actor, via, action, outcome, worker_id) SELECT now() - make_interval(mins => i), 'alice', 'api', 'POST /api/tasks', '201', 'w' FROM generate_series(1, 3000) i");
  await db.query("ANALYZE");
}

/** The statements among `seen` that read a growing table whole, even with sequential scans off. */
async function wholeReads(db: Db, seen: readonly Statement[]): Promise<{ explained: number; scans: string[] }> {
  const explainable = seen.filter(({ sql }) => /^\s*(SELECT|WITH|UPDATE|DELETE|INSERT)\b/i.test(sql) && GROWING.some((t) => sql.includes(t)));
  const partial = new Set((await db.query<{ name: string }>("SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indpred IS NOT NULL")).rows.map((r) => r.name));
  const scans: string[] = [];
  for (const statement of explainable) {
    scans.push(...wholeTableScans(await explain(db, statement, { seqScanOff: true }), partial).map((table) => `${table}: ${brief(statement.sql)} ${JSON.stringify(statement.params)}`));
  }
  return { explained: explainable.length, scans };
}

describe("what an agent reads on its own and for a dashboard refresh, with a history kept (PGlite)", () => {
  let agent: Agent;
  let dataDir = "";
  const api = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${agent.url}${path}`, { ...init, headers: { "Content-Type": "application/json" } });
    expect(res.status, `${path}: ${await res.clone().text()}`).toBeLessThan(300);
    return res.json() as Promise<Record<string, unknown>>;
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "ph-background-"));
    const env = { TASK_SCHEDULE_POLL_MS: "200", TASK_WEBHOOK_POLL_MS: "200", TASK_LEASE_MS: "1500", TASK_RESULT_TTL: "1h", PORT: "0" };
    agent = await startAgent(loadConfig(env, dataDir), { logger: silentLogger() });
    await history(agent.store.db);
    // Something for each poller and card to look at: a schedule (not due for a while), a webhook, an inbound hook.
    await api("/api/schedules", { method: "POST", body: JSON.stringify({ name: "nightly", cron: "0 3 * * *", task: { type: "cli", title: "backup", command: "true" } }) });
    await api("/api/webhooks", { method: "POST", body: JSON.stringify({ name: "alerts", url: "http://127.0.0.1:9/x", events: ["failed"] }) });
    await api("/api/hooks", { method: "POST", body: JSON.stringify({ name: "builds", task: { type: "cli", title: "build", command: "true" } }) });
  });
  afterAll(async () => {
    await agent.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("on its own: heartbeats, lease recovery, the sweeps, the pollers, a claim and a finish, the cleanups", async () => {
    const { store, manager } = agent;
    const seen = await recordStatements(store.db, async () => {
      // A task runs through (its claim and finish), then the agent idles: heartbeats, sweeps, polls.
      const { task } = await manager.enqueueTask({ type: "cli", title: "one", command: "true" });
      await waitFor(async () => ((await manager.getTask(task.id))?.status === "completed" ? true : undefined), 15_000, "the task to complete");
      await new Promise((resolve) => setTimeout(resolve, 3000));
      // The sweeps that come less often than this wait: the retention cleanup (up to hourly), doomed
      // dependents (every 30 s), tasks past their start-by time (every 5 s), old webhook deliveries and audit entries (hourly).
      await store.deleteExpired(3600_000);
      await new WebhookStore(store.db).deleteOld(3600_000);
      await new AuditStore(store.db).deleteOlderThan(3600_000); // the audit log's retention (hourly)
      await store.doomedDependents(undefined, 100);
      await store.expired(100);
    });
    const { explained, scans } = await wholeReads(store.db, seen);
    expect(explained).toBeGreaterThanOrEqual(10);
    expect(scans).toEqual([]);
  });

  it("for a dashboard refresh (every 2 s while one is open) and a task's page", async () => {
    const { store } = agent;
    const seen = await recordStatements(store.db, async () => {
      // What the overview asks for (app.js, loadOverview), then a task's page.
      for (const path of ["/api/stats", "/api/tasks?limit=25", "/api/tasks?status=running&limit=10", "/api/schedules", "/api/hooks", "/api/webhooks",
        "/api/queue/pauses", "/api/workers", "/api/queue/rate-limits", "/api/queue/concurrency", "/api/tasks?status=failed&limit=25", "/api/tasks?tag=batch-7&limit=25"]) await api(path);
      await api("/api/tasks/old-000009");
      await api("/api/tasks/old-000009/attempts");
      await api("/api/webhooks/alerts/deliveries?limit=20");
    });
    const { explained, scans } = await wholeReads(store.db, seen);
    expect(explained).toBeGreaterThanOrEqual(8);
    expect(scans).toEqual([]);
  });
});
