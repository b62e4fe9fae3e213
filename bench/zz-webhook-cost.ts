import { randomBytes } from "node:crypto";
import { TaskStore } from "../src/store/task-store.js";
import { WebhookStore } from "../src/store/webhook-store.js";
import { BENCH_DATABASE_URL, dropSchema, noopManager } from "./support.js";
async function run(mode: "none" | "filtered" | "every", count: number) {
  const schema = `wh_${randomBytes(3).toString("hex")}`;
  const store = await TaskStore.open({ databaseUrl: BENCH_DATABASE_URL, schema });
  const hooks = new WebhookStore(store.db);
  if (mode !== "none") await hooks.insert(`w-${mode}`, { name: "w", url: "http://127.0.0.1:1/x", secret: "0123456789abcdef", events: ["completed", "failed", "cancelled"], task_type: mode === "filtered" ? "nothing" : null, drive_id: null, enabled: true });
  const once = async (n: number) => {
    const manager = noopManager(store, { maxConcurrent: 10, maxPerDocument: 1, maxPerDrive: 3 });
    const inputs = Array.from({ length: n }, (_, i) => ({ type: "noop", title: `t${i}`, source: { documentId: `doc-${i % 200}`, driveId: `drive-${i % 10}` } }));
    for (let i = 0; i < n; i += 1000) await manager.enqueueTasks(inputs.slice(i, i + 1000));
    let done = 0;
    const finished = new Promise<void>((r) => manager.on("completed", () => { if (++done === n) r(); }));
    const t0 = performance.now();
    await manager.start(); await finished;
    const ms = performance.now() - t0;
    await manager.stop(0);
    return (n / ms) * 1000;
  };
  await once(1000);
  const rate = await once(count);
  const rows = (await store.db.query<{ n: number }>("SELECT count(*)::int AS n FROM ph_webhook_deliveries")).rows[0]?.n;
  await store.close(); await dropSchema(schema);
  return { rate, rows };
}
const results: Record<string, number[]> = { none: [], filtered: [], every: [] };
for (let r = 0; r < 4; r++) for (const mode of ["none", "every"] as const) { const { rate, rows } = await run(mode, 5000); results[mode]!.push(Math.round(rate)); console.log(mode, Math.round(rate), "outbox rows", rows); }
console.log(results);
process.exit(0);
