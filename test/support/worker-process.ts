/**
 * A worker process for the multi-process tests: a TaskManager on the shared PostgreSQL schema,
 * with the CLI executor and a "hold" task type that sleeps (abortably). It prints one JSON line
 * per lifecycle event on stdout, with wall-clock times, so the test can check overlaps.
 */
import { z } from "zod";
import { createLogger } from "../../src/logger.js";
import { TaskStore } from "../../src/store/task-store.js";
import { TaskManager } from "../../src/tasks/task-manager.js";
import type { JsonObject, Task } from "../../src/tasks/types.js";
import type { TaskExecutor } from "../../src/tasks/executors/executor.js";
import { cliRegistry, testSettings } from "./manager.js";
import { HoldRequestSchema } from "./hold-schema.js";

const Args = z.object({ url: z.string().optional(), dataDir: z.string().optional(), schema: z.string().optional(), workerId: z.string(), maxConcurrent: z.number(), maxPerDocument: z.number(), maxPerDrive: z.number(), leaseMs: z.number() });
const args = Args.parse(JSON.parse(process.argv[2] ?? "{}"));

const emit = (event: string, task: Task, extra: JsonObject = {}) =>
  process.stdout.write(`${JSON.stringify({ event, id: task.id, doc: task.source?.documentId ?? null, drive: task.source?.driveId ?? null, at: Date.now(), worker: args.workerId, ...extra })}\n`);

const hold: TaskExecutor<Task & { ms: number }> = {
  type: "hold",
  requestSchema: HoldRequestSchema,
  async execute(task, ctx) {
    emit("exec-start", task);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, task.ms);
      ctx.signal.addEventListener("abort", () => { clearTimeout(timer); reject(new Error("aborted")); });
    });
    emit("exec-end", task);
    return { heldBy: args.workerId };
  },
};

// PostgreSQL when a URL is given, else embedded PGlite in a data directory (one process at a time).
const store = await TaskStore.open(args.url ? { databaseUrl: args.url, ...(args.schema ? { schema: args.schema } : {}) } : { ...(args.dataDir ? { dataDir: args.dataDir } : {}) });
const manager = new TaskManager(
  store,
  cliRegistry("/tmp").register(hold),
  testSettings({ workerId: args.workerId, maxConcurrent: args.maxConcurrent, maxPerDocument: args.maxPerDocument, maxPerDrive: args.maxPerDrive, leaseMs: args.leaseMs, heartbeatMs: Math.min(500, args.leaseMs / 3), pollIntervalMs: 1000 }),
  createLogger({ level: "warn", destination: { write: (line: string) => process.stderr.write(line) } }),
);
manager.on("started", (task) => emit("started", task));
manager.on("completed", (task) => emit("completed", task));
manager.on("cancelled", (task) => emit("cancelled", task));
await manager.start();
process.stdout.write(`${JSON.stringify({ event: "ready", worker: args.workerId })}\n`);
process.on("SIGTERM", () => void manager.stop(1000).then(() => store.close()).then(() => process.exit(0)));
