/**
 * Outbound webhooks with several sender PROCESSES sharing PostgreSQL: three senders race for the
 * same deliveries, one is killed with SIGKILL while its POSTs are in flight, and every delivery is
 * delivered. A delivery reaches the receiver more than once only when the killed sender had it in
 * flight (at least once), and then again with a higher attempt number, after the lease.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { TaskStore } from "../src/store/task-store.js";
import { WebhookStore } from "../src/store/webhook-store.js";
import { JsonLinesChild } from "./support/json-lines-child.js";
import { testManager } from "./support/manager.js";
import { waitFor } from "./support/process.js";
import { ExecutorRegistry } from "../src/tasks/executors/registry.js";
import { scriptedExecutor } from "./support/scripted-executor.js";
import { dropSchema, postgresAvailable, TEST_DATABASE_URL, uniqueSchema } from "./support/stores.js";

const TIMEOUT_MS = 2000; // the sender's lease is twice this plus 5 s; shorter, a POST slowed by a busy machine (the receiver answers in 100 ms) timed out and was retried — a repeat no kill caused
const N = 80;

class SenderProcess extends JsonLinesChild<{ event: string; worker?: string }> {
  constructor(schema: string, workerId: string) {
    super("test/support/webhook-sender-process.ts", { url: TEST_DATABASE_URL, schema, workerId, timeoutMs: TIMEOUT_MS });
  }
}

describe.skipIf(!postgresAvailable)("outbound webhooks with several sender processes on PostgreSQL", () => {
  const schema = uniqueSchema("hooks");
  const senders: SenderProcess[] = [];
  afterAll(async () => {
    await Promise.all(senders.map((s) => s.stop()));
    await dropSchema(schema);
  });

  it("three senders, one killed with SIGKILL mid-send: every delivery delivered, repeats only of the killed one's, with a later attempt", async () => {
    const received: { id: string; attempt: number }[] = [];
    const receiver = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        received.push({ id: String(req.headers["x-ph-delivery"]), attempt: Number(req.headers["x-ph-delivery-attempt"]) });
        setTimeout(() => res.writeHead(200).end(), 100); // answers late: POSTs are in flight when the kill comes
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const store = await TaskStore.open({ databaseUrl: TEST_DATABASE_URL, schema });
    try {
      await new WebhookStore(store.db).insert("w", { name: "all", url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`, secret: "0123456789abcdef", events: ["completed"], task_type: null, drive_id: null, enabled: true });
      senders.push(new SenderProcess(schema, "s1"), new SenderProcess(schema, "s2"), new SenderProcess(schema, "s3"));
      await Promise.all(senders.map((s) => s.ready));
      // The tasks end in this process; only the senders send.
      const manager = testManager(store, { maxConcurrent: 10, maxPerDocument: 10, maxPerDrive: 10 }, new ExecutorRegistry().register(scriptedExecutor([])));
      await manager.start();
      await manager.enqueueTasks(Array.from({ length: N }, (_, i) => ({ type: "scripted", title: `t${i}` })));
      // Kill s1 while it holds deliveries it is sending (claimed, not yet recorded).
      const heldBy = async (worker: string) => (await store.db.query<{ id: string }>("SELECT id FROM ph_webhook_deliveries WHERE locked_by = $1 AND status = 'pending'", [worker])).rows.map((r) => r.id);
      await waitFor(async () => ((await heldBy("s1")).length > 0 ? true : undefined), 20_000, "s1 to be sending");
      senders[0]?.child.kill("SIGKILL");
      await new Promise((resolve) => senders[0]?.child.once("exit", resolve));
      const stranded = new Set(await heldBy("s1"));
      expect(stranded.size).toBeGreaterThan(0);
      const delivered = async () => (await store.db.query<{ n: number }>("SELECT count(*)::int AS n FROM ph_webhook_deliveries WHERE status = 'delivered'")).rows[0]?.n ?? 0;
      await waitFor(async () => ((await delivered()) === N ? true : undefined), 40_000, `all ${N} deliveries delivered`);
      await manager.stop(0);

      expect(new Set(received.map((r) => r.id)).size).toBe(N);
      const byId = new Map<string, number[]>();
      for (const r of received) byId.set(r.id, [...(byId.get(r.id) ?? []), r.attempt]);
      // Only the dead sender's deliveries come again, each time with a later attempt number.
      const repeated = [...byId].filter(([, attempts]) => attempts.length > 1);
      for (const [id, attempts] of repeated) {
        expect(stranded.has(id)).toBe(true);
        expect(new Set(attempts).size).toBe(attempts.length);
      }
      // Each delivery it held was taken over after its lease: sent again by a live sender.
      const { rows } = await store.db.query<{ id: string; attempts: number; locked_by: string | null }>("SELECT id, attempts, locked_by FROM ph_webhook_deliveries WHERE id = ANY($1)", [[...stranded]]);
      expect(rows).toHaveLength(stranded.size);
      for (const row of rows) expect(row.attempts).toBeGreaterThanOrEqual(2);
    } finally {
      receiver.closeAllConnections();
      receiver.close();
      await store.close();
    }
  }, 90_000);
});
