/**
 * A worker's heartbeat never waits on a row another transaction holds (PostgreSQL, where several
 * connections update the same rows). It used to: the renewal and the recording of a run's end lock
 * the same rows in different orders, PostgreSQL found the deadlock after a second and cancelled
 * one of them — when it cancelled the end, the task ran again once its lease ran out. Here a
 * second connection holds a running task's row the way an end being recorded does, and the renewal
 * must come back at once, renew the others, and still count the busy one as held.
 */
import pg from "pg";
import { describe, expect, it } from "vitest";
import { testManager } from "./support/manager.js";
import { BACKENDS, TEST_DATABASE_URL } from "./support/stores.js";

const postgres = BACKENDS.find((b) => b.name === "postgres")!;

describe.skipIf(!postgres.available)("lease renewal on PostgreSQL", () => {
  it("skips a row another transaction holds, without waiting, and counts it as still held", async () => {
    const { store, schema, cleanup } = await postgres.open();
    const other = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await other.connect();
    try {
      const manager = testManager(store); // not started: the claim below is this test's
      const stored = await manager.enqueueTasks(["a", "b", "c"].map((title) => ({ type: "cli", title, command: "true" })));
      const ids = stored.map((s) => s.task.id);
      const claim = { workerId: "w1", count: 3, leaseMs: 5000, maxPerDocument: 1, maxPerDrive: 3, typeSlots: {}, types: ["cli"] };
      expect((await store.finishAndClaim("w1", [], claim, [])).claimed).toHaveLength(3);
      const leases = async () => new Map((await store.db.query<{ id: string; lease_expires_at: Date }>("SELECT id, lease_expires_at FROM ph_tasks WHERE id = ANY($1)", [ids])).rows.map((r) => [r.id, r.lease_expires_at.getTime()]));
      const before = await leases();

      // The second connection records b's end, and has not committed yet.
      await other.query(`SET search_path TO ${schema}`);
      await other.query("BEGIN");
      await other.query("UPDATE ph_tasks SET status = 'completed', locked_by = NULL, finished_at = now() WHERE id = $1", [ids[1]]);
      const started = Date.now();
      const renewal = store.renewLeases("w1", ids, 60_000);
      const outcome = await Promise.race([renewal, new Promise<"waited">((resolve) => setTimeout(() => resolve("waited"), 3000))]);
      expect(outcome).not.toBe("waited");
      expect(Date.now() - started).toBeLessThan(3000);
      expect(new Set((outcome as { id: string }[]).map((r) => r.id))).toEqual(new Set(ids)); // b busy, not lost
      const after = await leases();
      expect(after.get(ids[0]!)).toBeGreaterThan(before.get(ids[0]!)! + 30_000);
      expect(after.get(ids[2]!)).toBeGreaterThan(before.get(ids[2]!)! + 30_000);
      expect(after.get(ids[1]!)).toBe(before.get(ids[1]!)); // the row held was left alone

      await other.query("COMMIT");
      // Its end recorded: no longer this worker's.
      expect(new Set((await store.renewLeases("w1", ids, 60_000)).map((r) => r.id))).toEqual(new Set([ids[0], ids[2]]));
    } finally {
      await other.end();
      await cleanup();
    }
  });
});
