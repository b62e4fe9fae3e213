/**
 * A title search (`ph-tasks list --search`, the dashboard's search box) finds the few tasks that
 * match through the titles' trigram index (migration 028), not by reading every retained task: with
 * 1,000,000 kept the old search read them all when few or none matched (1.2 s on PostgreSQL).
 * Checked the way a slow read shows itself — EXPLAIN ANALYZE counts the ph_tasks rows read — on
 * PGlite and PostgreSQL; the same answers without the index (where pg_trgm cannot be had); and the
 * title rows come and go with their tasks.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { describe, expect, it } from "vitest";
import type { Queryable } from "../src/store/db.js";
import { runChecks } from "../src/doctor/checks.js";
import { TaskStore } from "../src/store/task-store.js";
import { testManager } from "./support/manager.js";
import { explain, recordStatements, rowsRead } from "./support/query-plans.js";
import { BACKENDS, postgresAvailable, storePerTest, TEST_DATABASE_URL } from "./support/stores.js";
import { insertFinishedHistory } from "./support/history.js";

/** Finished tasks, as a store keeps them after weeks of work (their title rows as migration 028 fills them). */
async function history(db: Queryable, count: number): Promise<void> {
  await insertFinishedHistory(db, count, "build the docs, run ");
  await db.query("INSERT INTO ph_task_titles (task_id, title) SELECT id, title FROM ph_tasks WHERE id LIKE 'old-%'");
  await db.query("ANALYZE ph_task_titles");
}

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`the title search on ${backend.name}`, () => {
    const openStore = storePerTest(backend);

    it("finds the few matching tasks through the trigram index, reading no task that does not match — and the same without the index", async () => {
      const { store } = await openStore();
      const manager = testManager(store);
      const release = (await manager.enqueueTask({ type: "cli", title: "Deploy release 4.2 to staging", command: "true" })).task.id;
      const percent = (await manager.enqueueTask({ type: "cli", title: "Disk at 100% on db-1", command: "true" })).task.id;
      await history(store.db, 5000);
      const indexes = await store.db.query("SELECT 1 FROM pg_indexes WHERE indexname = 'ph_task_titles_trgm' AND schemaname = current_schema()");
      expect(indexes.rows).toHaveLength(1);

      const titled = async (text: string) => (await manager.listTasks({ titleContains: text, limit: 25, offset: 0 })).tasks.map((t) => t.id);
      const answers = async () => ({
        release: await titled("RELEASE 4.2"), // any case
        percent: await titled("100%"), // % and _ are matched as themselves
        underscore: await titled("db_1"),
        none: await titled("no task is called this"),
        many: (await manager.listTasks({ titleContains: "build the docs", limit: 3, offset: 0 })).total,
        short: (await titled("4.")).length, // two characters: no trigram to look up
      });
      const withIndex = await answers();
      expect(withIndex).toEqual({ release: [release], percent: [percent], underscore: [], none: [], many: 5000, short: 1 });

      // What the search sent, explained with its actual row counts: the match and not the 5,002 tasks.
      for (const text of ["release 4.2", "no task is called this"]) {
        const [statement] = (await recordStatements(store.db, () => store.list({ titleContains: text, limit: 25, offset: 0 }))).filter((q) => q.sql.includes("ph_tasks"));
        expect(rowsRead(await explain(store.db, statement!, { analyze: true }), "ph_tasks"), text).toBeLessThanOrEqual(4);
      }

      // Where pg_trgm could not be created there is no index: the same answers, reading the titles.
      await store.db.query("DROP INDEX ph_task_titles_trgm");
      expect(await answers()).toEqual(withIndex);
    });

    it("keeps a title's row with its task: a refused task's too, gone with the retention cleanup", async () => {
      const { store } = await openStore();
      const manager = testManager(store);
      const kept = (await manager.enqueueTask({ type: "cli", title: "kept", command: "true" })).task.id;
      const refused = await manager.rejectTask({ type: "cli", title: "refused loop", command: "true" }, { kind: "fatal", code: "invalid_task", message: "refused for the test" });
      expect((await manager.listTasks({ titleContains: "loop", limit: 25, offset: 0 })).tasks.map((t) => t.id)).toEqual([refused!.id]);
      const titleRows = async () => (await store.db.query<{ task_id: string }>("SELECT task_id FROM ph_task_titles ORDER BY task_id")).rows.map((r) => r.task_id);
      expect(await titleRows()).toEqual([kept, refused!.id].sort());

      await store.db.query("UPDATE ph_tasks SET finished_at = now() - interval '2 days' WHERE id = $1", [refused!.id]);
      expect(await store.deleteExpired(24 * 3600 * 1000)).toBe(1);
      expect(await titleRows()).toEqual([kept]);
    });
  });
}

describe.skipIf(!postgresAvailable)("the title search where pg_trgm cannot be created (PostgreSQL)", () => {
  it("migrates without it, finds the tasks by reading the titles, and ph-tasks doctor says what to run", async () => {
    // A database of its own (this one has pg_trgm already) and a role that may create tables in
    // its public schema but not extensions (no CREATE on the database), as a shared server's user.
    const suffix = randomBytes(3).toString("hex");
    const database = `ph_notrgm_${suffix}`;
    const role = `ph_limited_${suffix}`;
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    const at = (user: string) => {
      const url = new URL(TEST_DATABASE_URL);
      url.username = user;
      url.pathname = `/${database}`;
      return url.toString();
    };
    try {
      await admin.query(`CREATE DATABASE ${database}`);
      await admin.query(`CREATE ROLE ${role} LOGIN`);
      const owner = new pg.Client({ connectionString: at(new URL(TEST_DATABASE_URL).username || "postgres") });
      await owner.connect();
      await owner.query(`GRANT USAGE, CREATE ON SCHEMA public TO ${role}`);
      await owner.end();

      const store = await TaskStore.open({ databaseUrl: at(role) });
      try {
        const installed = await store.db.query("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'");
        expect(installed.rows).toEqual([]);
        expect((await store.db.query("SELECT 1 FROM pg_indexes WHERE indexname = 'ph_task_titles_trgm'")).rows).toEqual([]);
        const manager = testManager(store);
        const wanted = (await manager.enqueueTask({ type: "cli", title: "Rotate the signing keys", command: "true" })).task.id;
        await manager.enqueueTask({ type: "cli", title: "Build the docs", command: "true" });
        expect((await manager.listTasks({ titleContains: "signing", limit: 25, offset: 0 })).tasks.map((t) => t.id)).toEqual([wanted]);
      } finally {
        await store.close();
      }
      const checks = await runChecks({ DATABASE_URL: at(role), PATH: process.env.PATH, PH_TASKS_URL: "http://127.0.0.1:9" });
      expect(checks.find((c) => c.name === "title search")).toEqual({
        name: "title search",
        level: "warn",
        detail: "pg_trgm could not be created, so a title search reads every title; as the database's owner run CREATE EXTENSION pg_trgm; and the agent indexes the titles at its next start",
      });
      // What it says works: the owner creates the extension, the agent's next start the index.
      const dba = new pg.Client({ connectionString: at(new URL(TEST_DATABASE_URL).username || "postgres") });
      await dba.connect();
      await dba.query("CREATE EXTENSION pg_trgm");
      await dba.end();
      await (await TaskStore.open({ databaseUrl: at(role) })).close();
      const after = await runChecks({ DATABASE_URL: at(role), PATH: process.env.PATH, PH_TASKS_URL: "http://127.0.0.1:9" });
      expect(after.find((c) => c.name === "title search")?.level).toBe("ok");
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await admin.end();
    }
  });
});
