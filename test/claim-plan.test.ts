/**
 * The claim's update goes by row address (migration 010) whatever the statistics say. Its plan is
 * cached per connection (generic plans); a plan made while few tasks were pending once drove the
 * update from the index of every pending task, 190 ms per claim with 7,440 pending. The plans are
 * read from PostgreSQL's auto_explain, sent to this client as notices (PostgreSQL only: PGlite has
 * no auto_explain).
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TaskStore } from "../src/store/task-store.js";
import { testManager } from "./support/manager.js";
import { dropSchema, postgresAvailable, TEST_DATABASE_URL, uniqueSchema } from "./support/stores.js";

describe.skipIf(!postgresAvailable)("the claim's plan on PostgreSQL", () => {
  const schema = uniqueSchema("plan");
  let store: TaskStore;
  let client: pg.Client;
  const notices: string[] = [];

  beforeAll(async () => {
    store = await TaskStore.open({ databaseUrl: TEST_DATABASE_URL, schema });
    client = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema}` });
    await client.connect();
    client.on("notice", (notice) => notices.push(notice.message ?? ""));
  });
  afterAll(async () => {
    await client.end();
    await store.close();
    await dropSchema(schema);
  });

  const claim = (count: number) =>
    client.query("SELECT id FROM ph_finish_and_claim('plan-worker', '{}', '{}', '{}', '{}', '{}', NULL, $1, 100, 100, 30000, '{}', 1, '{cli}', '{}', '{}', '{}', '{}', '{}', false)", [count]);

  it("updates the chosen tasks through a TID scan, planned with few pending and run with thousands", async () => {
    const manager = testManager(store);
    const enqueue = (n: number, from: number) =>
      manager.enqueueTasks(Array.from({ length: n }, (_, i) => ({ type: "cli", title: `t${from + i}`, command: "true", source: { documentId: `doc-${from + i}`, driveId: "drive" } })));
    await enqueue(20, 0);
    await client.query("ANALYZE ph_tasks"); // statistics of a nearly empty queue
    expect((await claim(5)).rows).toHaveLength(5); // the function's plans are made now, on this connection
    for (let i = 0; i < 3000; i += 1000) await enqueue(1000, 100 + i);
    await client.query("LOAD 'auto_explain'");
    await client.query("SET auto_explain.log_min_duration = 0");
    await client.query("SET auto_explain.log_nested_statements = on");
    await client.query("SET auto_explain.log_level = 'notice'");
    notices.length = 0;
    expect((await claim(10)).rows).toHaveLength(10);
    const update = notices.find((n) => n.includes("SET status = 'running'"));
    expect(update, `no plan of the claim's update among ${notices.length} notices`).toBeDefined();
    expect(update).toContain("Tid Scan on ph_tasks");
    expect(update).not.toContain("ph_tasks_claimable");
  });
});
