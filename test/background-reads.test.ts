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
import { afterEach, describe, expect, it } from "vitest";
import { startAgent, type Agent } from "../src/agent.js";
import { loadConfig } from "../src/config.js";
import { silentLogger } from "../src/logger.js";
import type { Queryable } from "../src/store/db.js";
import { WebhookStore } from "../src/store/webhook-store.js";
import { waitFor } from "./support/process.js";

/** Tables whose size follows the retained history (the rest hold settings: a few rows each). */
const GROWING = ["ph_tasks", "ph_task_events", "ph_task_tags", "ph_task_dependencies", "ph_webhook_deliveries"];

function wholeTableScans(node: Record<string, unknown>): string[] {
  const relation = String(node["Relation Name"]);
  const own = node["Node Type"] === "Seq Scan" && GROWING.includes(relation) ? [relation] : [];
  return [...own, ...((node.Plans as Record<string, unknown>[] | undefined) ?? []).flatMap(wholeTableScans)];
}

/** Finished tasks with their event-log entries, tags, dependencies and webhook deliveries. */
async function history(db: Queryable): Promise<void> {
  await db.query(
    `INSERT INTO ph_tasks (id, type, title, params, status, priority, rank_at, attempts, max_attempts, timeout_ms, finished_at, drive_id, document_id)
     SELECT 'old-' || lpad(i::text, 6, '0'), 'cli', 'old ' || i, '{"command":"true","tags":["old"]}'::jsonb,
            CASE WHEN i % 9 = 0 THEN 'failed' ELSE 'completed' END, 50, now(), 1, 3, 60000, now() - make_interval(secs => i), 'drive-' || (i % 7), 'doc-' || i
     FROM generate_series(1, 3000) i`,
  );
  await db.query("INSERT INTO ph_task_events (task_id, kind, stream, data, bytes) SELECT id, 'output', 'stdout', 'x', 1 FROM ph_tasks WHERE id LIKE 'old-%'");
  await db.query("INSERT INTO ph_task_tags (tag, task_id) SELECT 'old', id FROM ph_tasks WHERE id LIKE 'old-%'");
  await db.query("INSERT INTO ph_task_dependencies (task_id, depends_on) SELECT id, 'old-000001' FROM ph_tasks WHERE id LIKE 'old-%' AND id <> 'old-000001'");
  await db.query(
    `INSERT INTO ph_webhook_deliveries (id, webhook_id, task_id, event, payload, status, attempts, delivered_at)
     SELECT 'd-' || id, 'alerts', id, 'task.completed', '{}'::jsonb, 'delivered', 1, now() FROM ph_tasks WHERE id LIKE 'old-%'`,
  );
  await db.query("ANALYZE");
}

describe("what an idle agent reads on its own", () => {
  let agent: Agent | undefined;
  let dataDir = "";
  afterEach(async () => {
    await agent?.stop();
    agent = undefined;
    await rm(dataDir, { recursive: true, force: true });
  });

  it("reads no table that grows with the history whole, on PGlite", async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "ph-background-"));
    const env = { TASK_SCHEDULE_POLL_MS: "200", TASK_WEBHOOK_POLL_MS: "200", TASK_LEASE_MS: "1500", TASK_RESULT_TTL: "1h", PORT: "0" };
    agent = await startAgent(loadConfig(env, dataDir), { logger: silentLogger() });
    const { store, manager } = agent;
    await history(store.db);
    // Something for each poller to look at: a schedule (not due for a while) and a webhook.
    await agent.schedules.create({ name: "nightly", cron: "0 3 * * *", task: { type: "cli", title: "backup", command: "true" } });
    const made = await fetch(`${agent.url}/api/webhooks`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ name: "alerts", url: "http://127.0.0.1:9/x", events: ["failed"] }) });
    expect(made.status, await made.clone().text()).toBe(201);

    const seen = new Map<string, readonly unknown[]>();
    const db = store.db as { query: Queryable["query"]; transaction: typeof store.db.transaction };
    const query = db.query;
    const transaction = db.transaction.bind(store.db);
    db.query = (sql, params = []) => {
      seen.set(sql, params);
      return query(sql, params);
    };
    db.transaction = (fn) =>
      transaction((tx) =>
        fn({
          query: (sql, params = []) => {
            seen.set(sql, params);
            return tx.query(sql, params);
          },
        }),
      );
    try {
      // A task runs through (its claim and finish), then the agent idles: heartbeats, sweeps, polls.
      const { task } = await manager.enqueueTask({ type: "cli", title: "one", command: "true" });
      await waitFor(async () => ((await manager.getTask(task.id))?.status === "completed" ? true : undefined), 15_000, "the task to complete");
      await new Promise((resolve) => setTimeout(resolve, 3000));
      // The sweeps that come less often than this wait: the retention cleanup (up to hourly), doomed
      // dependents (every 30 s), tasks past their start-by time (every 5 s), old webhook deliveries (hourly).
      await store.deleteExpired(3600_000);
      await new WebhookStore(store.db).deleteOld(3600_000);
      await store.doomedDependents(undefined, 100);
      await store.expired(100);

    } finally {
      db.query = query;
      db.transaction = transaction;
    }

    const explainable = [...seen].filter(([sql]) => /^\s*(SELECT|WITH|UPDATE|DELETE|INSERT)\b/i.test(sql) && GROWING.some((t) => sql.includes(t)));
    expect(explainable.length).toBeGreaterThanOrEqual(5);
    const scans: string[] = [];
    for (const [sql, params] of explainable) {
      const plan = await store.db.transaction(async (tx) => {
        await tx.query("SET LOCAL enable_seqscan = off");
        return (await tx.query<{ "QUERY PLAN": unknown }>(`EXPLAIN (FORMAT JSON) ${sql}`, params)).rows[0]!["QUERY PLAN"];
      });
      const root = (typeof plan === "string" ? JSON.parse(plan) : plan) as [{ Plan: Record<string, unknown> }];
      scans.push(...wholeTableScans(root[0].Plan).map((table) => `${table}: ${sql.replace(/\s+/g, " ").trim().slice(0, 120)}`));
    }
    expect(scans).toEqual([]);
  });
});
