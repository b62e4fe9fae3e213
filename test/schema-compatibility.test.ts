/**
 * A rolling upgrade (migration 029): workers of two versions share a store, and the first new one
 * migrates it. A store says which agents it admits; an agent that knows too old a schema refuses
 * to open it (nothing changed, nothing lost), and a running one drains itself at its next
 * heartbeat — its run finishes, it claims nothing more, and the workers list says why. A newer
 * agent is made up here the way one would leave the store: a migration this code does not know.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Db } from "../src/store/db.js";
import { applyMigrations, LATEST_MIGRATION } from "../src/store/migrate.js";
import { openPgliteDb } from "../src/store/pglite-db.js";
import { openPostgresDb } from "../src/store/postgres-db.js";
import { IncompatibleSchemaError } from "../src/store/schema-compatibility.js";
import { TaskStore } from "../src/store/task-store.js";
import { WorkerStore } from "../src/store/worker-store.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import { testManager } from "./support/manager.js";
import { sleep, waitFor } from "./support/process.js";
import { dropSchema, postgresAvailable, TEST_DATABASE_URL, uniqueSchema } from "./support/stores.js";

const NEWER = LATEST_MIGRATION + 1;

/** A store that can be opened again (a data directory for PGlite, a schema on PostgreSQL). */
const reopenable = [
  {
    name: "pglite",
    available: true,
    make() {
      const dir = mkdtempSync(path.join(tmpdir(), "ph-schema-"));
      return { open: () => TaskStore.open({ dataDir: dir }), raw: () => openPgliteDb(dir), remove: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })) };
    },
  },
  {
    name: "postgres",
    available: postgresAvailable,
    make() {
      const schema = uniqueSchema("compat");
      return { open: () => TaskStore.open({ databaseUrl: TEST_DATABASE_URL, schema }), raw: () => openPostgresDb({ url: TEST_DATABASE_URL, schema }), remove: () => dropSchema(schema) };
    },
  },
];

/** What a newer agent's migration leaves: its version on record, and — if it breaks older agents — the bar raised. */
async function migrateAsNewerAgent(store: TaskStore, breaksOlderAgents: boolean): Promise<void> {
  await applyMigrations(store.db, [{ version: NEWER, name: "from a newer agent", statements: ["CREATE TABLE ph_from_a_newer_agent (x int)"], breaksOlderAgents }]);
}

for (const backend of reopenable) {
  describe.skipIf(!backend.available)(`schema compatibility on ${backend.name}`, () => {
    const cleanups: (() => Promise<unknown>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });
    const make = () => {
      const made = backend.make();
      cleanups.push(made.remove);
      return made;
    };
    const opened = async (open: () => Promise<TaskStore>) => {
      const store = await open();
      cleanups.push(() => store.close());
      return store;
    };

    it("a store this agent migrated admits it and agents from 28 on; each worker's row says which schema its code knows", async () => {
      const store = await opened(make().open);
      expect(store.schema).toEqual({ version: LATEST_MIGRATION, oldestAgentSchema: 28 });
      const manager = testManager(store);
      cleanups.push(() => manager.stop(0));
      await manager.start();
      const [me] = await new WorkerStore(store.db).list();
      expect(me).toMatchObject({ worker_id: manager.workerId, schema_version: LATEST_MIGRATION, drain_requested_at: null });
    });

    /** The store's tables without TaskStore.open (which would refuse it): as an operator with psql. */
    const withRaw = async <T>(place: { raw: () => Promise<Db> }, fn: (db: Db) => Promise<T>): Promise<T> => {
      const db = await place.raw();
      try {
        return await fn(db);
      } finally {
        await db.close();
      }
    };

    it("a newer agent's migration that breaks older agents: this one refuses to open the store, which keeps its tasks; an additive one admits it", async () => {
      const place = make();
      const first = await place.open();
      const { task } = await testManager(first).enqueueTask({ type: "cli", title: "kept", command: "true" });
      await migrateAsNewerAgent(first, true);
      await first.close();

      const refused = await place.open().then(
        (store) => store.close(),
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(IncompatibleSchemaError);
      expect((refused as Error).message).toBe(`the task store's schema (version ${NEWER}) needs agents that know version ${NEWER} or later; this agent knows ${LATEST_MIGRATION}: update it`);
      // Nothing of it changed: the newer agent's version on record, the task waiting.
      expect(await withRaw(place, async (db) => (await db.query<{ v: number }>("SELECT max(version) AS v FROM ph_tasks_migrations")).rows[0]?.v)).toBe(NEWER);

      // Had the newer migration been additive (the bar where it was), this agent opens the store.
      await withRaw(place, (db) => db.query("UPDATE ph_tasks_schema SET oldest_agent_schema = 28"));
      const again = await opened(place.open);
      expect(again.schema).toEqual({ version: NEWER, oldestAgentSchema: 28 });
      expect((await testManager(again).getTask(task.id))?.status).toBe("pending");
    });

    it("a running worker whose store a newer agent raises the bar for drains at its next heartbeat: its run finishes, nothing new starts, the list says why", async () => {
      const store = await opened(make().open);
      const manager: TaskManager = testManager(store, { maxPerDocument: 5 });
      cleanups.push(() => manager.stop(0));
      await manager.start();
      const { task: running } = await manager.enqueueTask({ type: "cli", title: "running", command: "sleep", args: ["1"] });
      await waitFor(async () => ((await manager.getTask(running.id))?.status === "running" ? true : undefined), 10_000, "the run to start");

      await migrateAsNewerAgent(store, true);
      await waitFor(() => (manager.claimableTypes().length === 0 ? true : undefined), 5000, "the worker to drain");
      const { task: later } = await manager.enqueueTask({ type: "cli", title: "after the upgrade", command: "true" });
      await waitFor(async () => ((await manager.getTask(running.id))?.status === "completed" ? true : undefined), 10_000, "the run to finish");
      await sleep(1000); // five heartbeats
      expect((await manager.getTask(later.id))?.status).toBe("pending");
      const workers = new WorkerStore(store.db);
      const [me] = await workers.list();
      expect(me?.drain_reason).toBe(`outdated: the task store's schema (version ${NEWER}) needs agents that know version ${NEWER} or later; this agent knows ${LATEST_MIGRATION}: update it`);

      // Resumed by hand, it drains again; with the bar lowered (the newer agent rolled back), it claims.
      await workers.setDrain(manager.workerId, undefined);
      await sleep(600);
      expect((await workers.list())[0]?.drain_requested_at).not.toBeNull();
      expect((await manager.getTask(later.id))?.status).toBe("pending");
      await store.db.query("UPDATE ph_tasks_schema SET oldest_agent_schema = 28");
      await workers.setDrain(manager.workerId, undefined);
      await waitFor(async () => ((await manager.getTask(later.id))?.status === "completed" ? true : undefined), 10_000, "the waiting task to run");
    });
  });
}

describe.skipIf(!postgresAvailable)("ph-tasks serve on a store that does not admit it", () => {
  it("exits 1 at once, saying which versions and what to do; nothing else is left running", async () => {
    const schema = uniqueSchema("compat");
    const store = await TaskStore.open({ databaseUrl: TEST_DATABASE_URL, schema });
    const dir = mkdtempSync(path.join(tmpdir(), "ph-serve-"));
    try {
      await migrateAsNewerAgent(store, true);
      const run = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = execFile(process.execPath, [path.resolve("bin/ph-tasks.js"), "serve"], { cwd: dir, encoding: "utf8", timeout: 60_000, env: { PATH: process.env.PATH ?? "", HOME: dir, PORT: "0", DATABASE_URL: `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}` } }, (_error, _stdout, stderr) => resolve({ code: child.exitCode, stderr }));
      });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`ph-tasks: the task store's schema (version ${NEWER}) needs agents that know version ${NEWER} or later; this agent knows ${LATEST_MIGRATION}: update it`);
      // It did not register as a worker of that store.
      expect(await new WorkerStore(store.db).list()).toEqual([]);
    } finally {
      await store.close();
      await dropSchema(schema);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
