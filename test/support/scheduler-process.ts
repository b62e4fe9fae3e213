/**
 * A scheduler process for the multi-process schedule test: a Scheduler on the shared PostgreSQL
 * schema that only makes tasks (nothing runs them). It prints one JSON line per task it makes,
 * with whether the task was new (false: the occurrence's task existed, a firing taken over).
 */
import { z } from "zod";
import { createLogger } from "../../src/logger.js";
import { Scheduler } from "../../src/schedules/scheduler.js";
import { ScheduleStore } from "../../src/store/schedule-store.js";
import { TaskStore } from "../../src/store/task-store.js";
import { TaskManager } from "../../src/tasks/task-manager.js";
import { cliRegistry, testSettings } from "./manager.js";

const Args = z.object({ url: z.string(), schema: z.string(), workerId: z.string(), firingLeaseMs: z.number() });
const args = Args.parse(JSON.parse(process.argv[2] ?? "{}"));

const store = await TaskStore.open({ databaseUrl: args.url, schema: args.schema });
const logger = createLogger({ level: "warn", destination: { write: (line: string) => process.stderr.write(line) } });
const manager = new TaskManager(store, cliRegistry("/tmp"), testSettings({ workerId: args.workerId }), logger);
const scheduler = new Scheduler({
  store: new ScheduleStore(store.db),
  workerId: args.workerId,
  pollMs: 50,
  firingLeaseMs: args.firingLeaseMs,
  logger,
  getTask: (id) => manager.getTask(id),
  createTask: async (input, origin) => {
    const made = await manager.enqueueTask({ ...(input as object), source: { origin } });
    process.stdout.write(`${JSON.stringify({ event: "task", key: made.task.idempotencyKey, id: made.task.id, created: made.created, worker: args.workerId, at: Date.now() })}\n`);
    return made;
  },
});
scheduler.start();
process.stdout.write(`${JSON.stringify({ event: "ready", worker: args.workerId })}\n`);
process.on("SIGTERM", () => void scheduler.stop().then(() => store.close()).then(() => process.exit(0)));
