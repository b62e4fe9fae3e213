/**
 * What outbound webhooks cost the finish path: no-op throughput of our manager on PostgreSQL with
 * no webhook (the delivery triggers are off), with one that matches no task (the trigger runs and
 * writes nothing), with one on every task's end (a delivery written per task; not sent here,
 * so the figure is the store's share alone), and with one on every start as well (the claim's
 * trigger on: two deliveries per task), and with one on pipeline ends only (the pipeline-check
 * trigger on, for tasks of no pipeline). Modes take turns for BENCH_ROUNDS rounds (default 3).
 * Run alone: `npx tsx bench/webhook-cost.ts`.
 */
import { randomBytes } from "node:crypto";
import { pathToFileURL } from "node:url";
import { TaskStore } from "../src/store/task-store.js";
import type { WebhookEvent } from "../src/store/sql/webhooks/webhook-row.js";
import { WebhookStore } from "../src/store/webhook-store.js";
import { runOurs } from "./queue-throughput.js";
import { BENCH_DATABASE_URL, dropSchema, fmt, median, postgresProblem, table } from "./support.js";

const N = Number(process.env.BENCH_TASKS ?? 5000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ENDS: WebhookEvent[] = ["completed", "failed", "cancelled"];
/** Each mode's webhook: the tasks it matches (a type, or null for all) and its events; none for the first. */
const MODES: Record<string, { taskType: string | null; events: WebhookEvent[] } | undefined> = {
  "no webhook (triggers off)": undefined,
  "a webhook matching no task": { taskType: "no-such-type", events: ENDS },
  "a webhook on every task's end": { taskType: null, events: ENDS },
  "a webhook on every task's start and end": { taskType: null, events: [...ENDS, "started", "retrying"] },
  // The pipeline-check trigger on (migration 032); these tasks belong to no pipeline, as most do.
  "a webhook on pipeline ends only": { taskType: null, events: ["pipeline.completed", "pipeline.failed", "pipeline.cancelled", "pipeline.blocked"] },
};

async function throughput(webhook: { taskType: string | null; events: WebhookEvent[] } | undefined): Promise<number> {
  const schema = `bench_wh_${randomBytes(3).toString("hex")}`;
  const store = await TaskStore.open({ databaseUrl: BENCH_DATABASE_URL, schema });
  try {
    if (webhook) {
      await new WebhookStore(store.db).insert(`bench-${schema}`, { name: "bench", url: "http://127.0.0.1:1/unused", secret: "0123456789abcdef", events: webhook.events, task_type: webhook.taskType, drive_id: null, enabled: true });
    }
    await runOurs(store, Math.max(200, Math.floor(N / 5))); // warm-up
    const { processMs } = await runOurs(store, N);
    return (N / processMs) * 1000;
  } finally {
    await store.close();
    await dropSchema(schema);
  }
}

export async function benchWebhookCost(): Promise<string> {
  const title = `### Outbound webhooks on the claim and finish paths: ${fmt(N)} no-op tasks on PostgreSQL, ${ROUNDS} rounds, modes taking turns`;
  const problem = await postgresProblem();
  if (problem) return `${title}\n\nnot measured: ${problem}`;
  const figures = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [mode, webhook] of Object.entries(MODES)) figures.set(mode, [...(figures.get(mode) ?? []), await throughput(webhook)]);
  }
  const base = median(figures.get("no webhook (triggers off)") ?? [1]);
  const rows = [...figures].map(([mode, values]) => [mode, `${fmt(median(values))} (${fmt(Math.min(...values))}–${fmt(Math.max(...values))})`, `${fmt(median(values) / base, 2)}×`]);
  return `${title}\n\n${table(["webhooks", "processed tasks/s, median (range)", "vs none"], rows)}`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(await benchWebhookCost());
  process.exit(0);
}
