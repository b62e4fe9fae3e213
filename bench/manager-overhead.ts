/**
 * The worker's own JavaScript per no-op task, without a database: the TaskManager and its claim
 * pump over an in-memory stand-in for the store that answers every call at once. What the queue
 * throughput bench measures on top of this is the database and its driver. CPU time of this
 * process per task, best and median of BENCH_OVERHEAD_ROUNDS rounds (default 7): the best is the
 * least disturbed by the rest of the machine. Run alone: `npx tsx bench/manager-overhead.ts`.
 */
import { pathToFileURL } from "node:url";
import type { ClaimLimits, Finish } from "../src/store/interfaces.js";
import type { ClaimedRow, FinishedRow } from "../src/store/sql/claim-tasks.js";
import type { TaskStore } from "../src/store/task-store.js";
import type { Task } from "../src/tasks/types.js";
import { fmt, median, noopManager } from "./support.js";

const N = Number(process.env.BENCH_OVERHEAD_TASKS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_OVERHEAD_ROUNDS ?? 7);

/** Just what the manager calls while it runs tasks; claims hand out the inserted tasks in order. */
function inMemoryStore(): TaskStore {
  const pending: ClaimedRow[] = [];
  const now = new Date();
  const stand: Record<string, unknown> = {
    // No pauses and no rate limits: every query of the queue controls finds no rows.
    db: { kind: "pglite", query: () => Promise.resolve({ rows: [] }), listen: () => Promise.resolve(() => Promise.resolve()), notify: () => Promise.resolve(), sqlChannel: () => undefined },
    insert: (tasks: Task[]) => {
      for (const task of tasks) {
        pending.push({ id: task.id, status: "running", updated_at: now, result: null, error: null, type: task.type, title: task.title, instructions: task.instructions, params: {}, priority: task.priority, attempts: 1, max_attempts: task.maxAttempts, timeout_ms: task.timeoutMs, idempotency_key: null, source: task.source ?? null, created_at: now });
      }
      return Promise.resolve(tasks.map((task) => ({ task, created: true })));
    },
    finishAndClaim: async (_worker: string, finishes: readonly Finish[], limits: ClaimLimits | undefined) => {
      await Promise.resolve();
      const finished: FinishedRow[] = finishes.map((f) => ({ id: f.id, status: f.status, updated_at: now, result: f.result, error: f.error }));
      return { finished, claimed: limits ? pending.splice(0, limits.count) : [] };
    },
    renewLeases: (_worker: string, ids: readonly string[]) => Promise.resolve(ids.map((id) => ({ id, cancel_requested: false }))),
    release: () => Promise.resolve([]),
    recoverExpiredLeases: () => Promise.resolve([]),
    nextRunAt: () => Promise.resolve(undefined),
    appendEvents: () => Promise.resolve(),
  };
  return stand as unknown as TaskStore;
}

/** CPU µs of this process per task for one round of N no-op tasks. */
async function round(): Promise<number> {
  const manager = noopManager(inMemoryStore(), { vacuumEveryFinishes: 0 });
  const inputs: unknown[] = Array.from({ length: N }, (_, i) => ({ type: "noop", title: `t${i}`, source: { documentId: `doc-${i % 200}`, driveId: `drive-${i % 10}` } }));
  await manager.enqueueTasks(inputs);
  let done = 0;
  const finished = new Promise<void>((resolve) => manager.on("completed", () => (++done === N ? resolve() : undefined)));
  const before = process.cpuUsage();
  await manager.start();
  await finished;
  const used = process.cpuUsage(before);
  await manager.stop(0);
  return (used.user + used.system) / N;
}

export async function benchManagerOverhead(): Promise<string> {
  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) samples.push(await round());
  return [
    `### The worker's own JavaScript per no-op task (no database): ${fmt(N)} tasks, ${ROUNDS} rounds`,
    "",
    `CPU of this process per task: best ${fmt(Math.min(...samples), 1)} µs, median ${fmt(median(samples), 1)} µs (TaskManager, claim pump, executor call, events; the store answers from memory).`,
  ].join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(await benchManagerOverhead());
  process.exit(0);
}
