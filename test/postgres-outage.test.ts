/**
 * PostgreSQL going away under a running worker — every connection of its role killed, and new ones
 * refused for a while — then coming back: the worker keeps running, its LISTEN connection comes back
 * on its own (a wake-up from another process starts a task at once, with polling set far apart), and
 * a running task's end is recorded. Simulated with a role of its own: NOLOGIN refuses its
 * connections as a stopped server would, pg_terminate_backend drops the ones it has.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TaskStore } from "../src/store/task-store.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import { cliRegistry, testManager } from "./support/manager.js";
import { sleep, waitFor } from "./support/process.js";
import { dropSchema, postgresAvailable, TEST_DATABASE_URL, uniqueSchema } from "./support/stores.js";

describe.skipIf(!postgresAvailable)("a worker through a PostgreSQL outage", () => {
  const role = `ph_outage_${randomBytes(3).toString("hex")}`;
  const schema = uniqueSchema("outage");
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  const errors: Error[] = [];
  let store: TaskStore;
  let other: TaskStore;
  let manager: TaskManager;

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE ROLE ${role} LOGIN SUPERUSER`);
    const url = new URL(TEST_DATABASE_URL);
    url.username = role;
    store = await TaskStore.open({ databaseUrl: url.toString(), schema, onError: (error) => errors.push(error) });
    other = await TaskStore.open({ databaseUrl: TEST_DATABASE_URL, schema });
    // Polling an hour apart: a task that starts at once was woken by LISTEN / NOTIFY.
    manager = testManager(store, { pollIntervalMs: 3_600_000, maxConcurrent: 2 }, cliRegistry("/tmp"));
    await manager.start();
  });
  afterAll(async () => {
    await admin.query(`ALTER ROLE ${role} LOGIN`).catch(() => undefined);
    await manager?.stop(0);
    await store?.close();
    await other?.close();
    await dropSchema(schema);
    await admin.query(`DROP ROLE IF EXISTS ${role}`);
    await admin.end();
  });

  const finished = (id: string, ms = 15_000) => waitFor(async () => { const t = await other.get(id); return t && ["completed", "failed", "cancelled"].includes(t.status) ? t : undefined; }, ms, `task ${id} to end`);

  const outage = async (during: () => Promise<void> = () => Promise.resolve()) => {
    await admin.query(`ALTER ROLE ${role} NOLOGIN`);
    const { rows } = await admin.query<{ n: number }>("SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE usename = $1", [role]);
    expect(rows[0]?.n).toBeGreaterThan(0);
    await during();
    await sleep(2500); // its reconnects are refused meanwhile
    await admin.query(`ALTER ROLE ${role} LOGIN`);
  };

  it("keeps running, records the end of a task that ran through it, and hears wake-ups again — also the one it missed", async () => {
    const before = await manager.enqueueTask({ type: "cli", title: "before", command: "true" });
    expect((await finished(before.task.id)).status).toBe("completed");
    const through = await manager.enqueueTask({ type: "cli", title: "through the outage", command: "sleep", args: ["3"] });
    await waitFor(async () => ((await other.get(through.task.id))?.status === "running" ? true : undefined), 10_000, "it to run");
    await outage();
    expect((await finished(through.task.id)).status).toBe("completed");
    expect(errors.length).toBeGreaterThan(0); // it did see the outage

    // Tasks from another process (a manager that is not started: it only stores and notifies).
    const elsewhere = testManager(other, {}, cliRegistry("/tmp"));
    await sleep(1500);
    const sentAt = Date.now();
    const { task } = await elsewhere.enqueueTask({ type: "cli", title: "woken by NOTIFY", command: "true" });
    const done = await finished(task.id, 10_000);
    expect(done.status).toBe("completed");
    expect(done.started_at!.getTime() - sentAt).toBeLessThan(5000); // polling is an hour apart

    // Sent while this worker's connections are refused and nothing of its own runs: its NOTIFY is
    // lost; the reconnected listener stands in for it.
    let missed = "";
    await outage(async () => void (missed = (await elsewhere.enqueueTask({ type: "cli", title: "announced during the outage", command: "true" })).task.id));
    expect((await finished(missed, 12_000)).status).toBe("completed");
  }, 90_000);
});
