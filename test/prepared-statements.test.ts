/**
 * Every statement is a named prepared statement on PostgreSQL, kept by each connection. The task
 * list's text depends on the filters asked for (one per combination), so a client walking through
 * combinations must not make the connections keep a prepared statement each without bound.
 */
import { afterAll, describe, expect, it } from "vitest";
import { migrate } from "../src/store/migrate.js";
import { openPostgresDb } from "../src/store/postgres-db.js";
import { listTasks } from "../src/store/sql/list-tasks.js";
import { TASK_STATUSES, type TaskStatus } from "../src/tasks/types.js";
import { dropSchema, postgresAvailable, TEST_DATABASE_URL, uniqueSchema } from "./support/stores.js";

describe.skipIf(!postgresAvailable)("prepared statements on PostgreSQL", () => {
  const schema = uniqueSchema("prep");
  afterAll(() => dropSchema(schema));

  it("a title search is never one: planned for its text each time (a generic plan read every task for a rare text)", async () => {
    const db = await openPostgresDb({ url: TEST_DATABASE_URL, schema, maxConnections: 1 });
    try {
      await migrate(db);
      for (let i = 0; i < 8; i++) await listTasks(db, { titleContains: "deploy", limit: 5, offset: 0 });
      await listTasks(db, { type: "cli", limit: 5, offset: 0 });
      const { rows } = await db.query<{ statement: string }>("SELECT statement FROM pg_prepared_statements WHERE statement LIKE '%ph_tasks%'");
      expect(rows.some((r) => r.statement.includes("type = $1"))).toBe(true); // the other lists are (this test runs before the next one fills the cap)
      expect(rows.filter((r) => r.statement.includes("ILIKE"))).toEqual([]);
    } finally {
      await db.close();
    }
  });

  it("a connection keeps at most 500 of them, however many filter combinations the list is asked for", async () => {
    const db = await openPostgresDb({ url: TEST_DATABASE_URL, schema, maxConnections: 1 });
    try {
      await migrate(db);
      // Every subset of the statuses, with and without each of four other filters: 31 × 16 = 496 texts, twice over with a tag.
      const subsets = Array.from<unknown, TaskStatus[]>({ length: 31 }, (_, bits) => TASK_STATUSES.filter((_s, i) => ((bits + 1) >> i) & 1));
      let lists = 0;
      for (const status of subsets) {
        for (let extra = 0; extra < 32; extra++) {
          const answer = await listTasks(db, {
            status,
            limit: 5,
            offset: 0,
            ...(extra & 1 ? { type: "cli" } : {}),
            ...(extra & 2 ? { driveId: "d" } : {}),
            ...(extra & 4 ? { titleContains: "x" } : {}),
            ...(extra & 8 ? { createdAfter: new Date(0) } : {}),
            ...(extra & 16 ? { tag: "t" } : {}),
          });
          expect(answer.total).toBe(0);
          lists++;
        }
      }
      expect(lists).toBe(992);
      const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_prepared_statements");
      expect(rows[0]!.n).toBeGreaterThan(400); // they are prepared ...
      expect(rows[0]!.n).toBeLessThanOrEqual(500); // ... up to the cap
    } finally {
      await db.close();
    }
  });
});
