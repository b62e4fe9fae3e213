/**
 * A webhook sender process for the multi-process webhook test: a WebhookSender on the shared
 * PostgreSQL schema, nothing else. Prints {"event":"ready"} once it runs.
 */
import { z } from "zod";
import { createLogger } from "../../src/logger.js";
import { TaskStore } from "../../src/store/task-store.js";
import { WebhookStore } from "../../src/store/webhook-store.js";
import { WebhookSender } from "../../src/webhooks/webhook-sender.js";

const Args = z.object({ url: z.string(), schema: z.string(), workerId: z.string(), timeoutMs: z.number() });
const args = Args.parse(JSON.parse(process.argv[2] ?? "{}"));

const store = await TaskStore.open({ databaseUrl: args.url, schema: args.schema });
const logger = createLogger({ level: "error", destination: { write: (line: string) => process.stderr.write(line) } });
const sender = new WebhookSender({
  store: new WebhookStore(store.db),
  workerId: args.workerId,
  pollMs: 50,
  timeoutMs: args.timeoutMs,
  maxAttempts: 10,
  retry: { baseMs: 50, maxMs: 200 },
  retentionMs: 86_400_000,
  logger,
});
sender.start();
process.stdout.write(`${JSON.stringify({ event: "ready", worker: args.workerId })}\n`);
process.on("SIGTERM", () => void sender.stop().then(() => store.close()).then(() => process.exit(0)));
