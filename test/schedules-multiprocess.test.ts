/**
 * Exactly once across several worker PROCESSES sharing PostgreSQL: three schedulers race for the
 * same every-second schedule, one is killed with SIGKILL on the way, and every occurrence makes
 * exactly one task.
 */
import { afterAll, describe, expect, it } from "vitest";
import { ScheduleService } from "../src/schedules/schedule-service.js";
import { ScheduleStore } from "../src/store/schedule-store.js";
import { TaskStore } from "../src/store/task-store.js";
import { JsonLinesChild } from "./support/json-lines-child.js";
import { cliRegistry } from "./support/manager.js";
import { sleep, waitFor } from "./support/process.js";
import { dropSchema, postgresAvailable, TEST_DATABASE_URL, uniqueSchema } from "./support/stores.js";

interface Line { event: string; key?: string; id?: string; created?: boolean; worker?: string; at?: number }

class SchedulerProcess extends JsonLinesChild<Line> {
  constructor(schema: string, workerId: string) {
    super("test/support/scheduler-process.ts", { url: TEST_DATABASE_URL, schema, workerId, firingLeaseMs: 500 });
  }
}

describe.skipIf(!postgresAvailable)("cron schedules with several worker processes on PostgreSQL", () => {
  const schema = uniqueSchema("sched");
  const workers: SchedulerProcess[] = [];
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await dropSchema(schema);
  });

  it("three workers, one killed with SIGKILL: every occurrence makes exactly one task", async () => {
    const store = await TaskStore.open({ databaseUrl: TEST_DATABASE_URL, schema });
    try {
      const schedules = new ScheduleStore(store.db);
      workers.push(new SchedulerProcess(schema, "s1"), new SchedulerProcess(schema, "s2"), new SchedulerProcess(schema, "s3"));
      await Promise.all(workers.map((w) => w.ready));
      const schedule = await new ScheduleService(schedules, cliRegistry("/tmp")).create({ name: "race", cron: "* * * * * *", overlap: "allow", task: { type: "cli", title: "{{schedule.occurrence}}", command: "true" } });
      const first = await waitFor(() => { const lines = workers.flatMap((w) => w.lines).filter((l) => l.event === "task"); return lines.length >= 2 ? lines : undefined; }, 10_000, "first firings");
      // Kill the worker that fired last: another one has to take over from there.
      const latest = first.reduce((a, b) => ((b.at ?? 0) > (a.at ?? 0) ? b : a));
      workers.find((w) => w.lines.some((l) => l.worker === latest.worker))?.child.kill("SIGKILL");
      await sleep(4000);
      await Promise.all(workers.map((w) => w.stop()));

      const made = workers.flatMap((w) => w.lines).filter((l) => l.event === "task");
      const { rows } = await store.db.query<{ key: string; n: number }>("SELECT idempotency_key AS key, count(*)::int AS n FROM ph_tasks WHERE idempotency_key LIKE $1 GROUP BY 1 ORDER BY 1", [`schedule:${schedule.id}:%`]);
      expect(rows.length).toBeGreaterThanOrEqual(4);
      expect(rows.every((r) => r.n === 1)).toBe(true);
      // Each occurrence's task was new exactly once; a second call for it can only be a takeover.
      const firstMade = new Map<string, number>();
      for (const line of made) if (line.created && line.key) firstMade.set(line.key, (firstMade.get(line.key) ?? 0) + 1);
      expect([...firstMade.values()].every((n) => n === 1)).toBe(true);
      expect(firstMade.size).toBe(rows.length);
      // One worker fires each occurrence: a call that found the task made can only be the takeover
      // of the killed worker's firing (at most one), not two live workers racing.
      expect(made.filter((l) => !l.created).length).toBeLessThanOrEqual(1);
      // The killed worker's firings were taken over by another.
      expect(new Set(made.map((l) => l.worker)).size).toBeGreaterThan(1);
      const row = await schedules.get(schedule.id);
      expect(row?.fired_count).toBe(rows.length);
    } finally {
      await store.close();
    }
  });
});
