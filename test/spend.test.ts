/**
 * What runs cost, and the daily budget (migration 038, src/tasks/spend-budget.ts), on PGlite and
 * PostgreSQL: each run's reported cost recorded once, whatever came of the run; the last 24 hours'
 * spend and when a spent budget has room again; once spent, the types whose runs cost money wait —
 * on every worker, saying why and until when — while other types run; a run starts capped at what
 * is left; room again once the spend is older than 24 hours.
 */
import { afterEach, describe, expect, it } from "vitest";
import { SpendStore } from "../src/store/spend-store.js";
import { spendReport } from "../src/tasks/spend-report.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import { costlyExecutor } from "./support/costly-executor.js";
import { cliRegistry, testManager } from "./support/manager.js";
import { sleep, waitFor } from "./support/process.js";
import { finalStatus } from "./support/scripted-executor.js";
import { BACKENDS, openWithSecondConnection, storePerTest } from "./support/stores.js";
import type { TaskStore } from "../src/store/task-store.js";
import { openWithReceiver } from "./support/webhook-receiver.js";

const HOUR = 3_600_000;

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`spend on ${backend.name}`, () => {
    const open = storePerTest(backend);

    it("records a run's cost once, sums the last 24 hours, and says when a spent budget has room again", async () => {
      const { store } = await open();
      const spend = new SpendStore(store.db);
      expect(await spend.record("w", { taskId: "t1", attempt: 1, taskType: "claude-code", costUsd: 0.25 })).toBe(true);
      expect(await spend.record("w", { taskId: "t1", attempt: 1, taskType: "claude-code", costUsd: 0.25 })).toBe(false); // its end recorded twice
      expect(await spend.record("w", { taskId: "t1", attempt: 2, taskType: "claude-code", costUsd: 0.5 })).toBe(true); // a retry costs again
      expect(await spend.inWindow(24 * HOUR, null)).toEqual({ spentUsd: 0.75, runs: 2, freesInMs: null });

      // 2 dollars 20 hours ago, 2 ten hours ago, 2 an hour ago (and 0.75 now); one 30 hours ago is out of the window.
      for (const [id, hoursAgo, usd] of [["old", 30, 9], ["a", 20, 2], ["b", 10, 2], ["c", 1, 2]] as const) {
        await store.db.query("INSERT INTO ph_run_costs (task_id, attempt, task_type, cost_usd, recorded_at, worker_id) VALUES ($1, 1, 'claude-agent', $2, now() - make_interval(hours => $3), 'w')", [id, usd, hoursAgo]);
      }
      const under = await spend.inWindow(24 * HOUR, 10);
      expect(under).toEqual({ spentUsd: 6.75, runs: 5, freesInMs: null }); // under the budget: nothing to wait for
      // 6.75 against 5: once "a" (2) leaves — 4 hours from now — 4.75 is left, under it.
      const spent = await spend.inWindow(24 * HOUR, 5);
      expect(spent.spentUsd).toBe(6.75);
      expect(Math.abs((spent.freesInMs ?? 0) - 4 * HOUR)).toBeLessThan(60_000);
      // Against 3, "a" and "b" must leave (2.75 left): 14 hours; against 2.5, "c" too (0.75): 23 hours.
      expect(Math.abs(((await spend.inWindow(24 * HOUR, 3)).freesInMs ?? 0) - 14 * HOUR)).toBeLessThan(60_000);
      expect(Math.abs(((await spend.inWindow(24 * HOUR, 2.5)).freesInMs ?? 0) - 23 * HOUR)).toBeLessThan(60_000);

      const report = await spendReport(spend, { perDay: 5 }, 3);
      expect(report).toMatchObject({ budgetUsdPerDay: 5, last24h: { usd: 6.75, runs: 5 }, remainingUsd: 0 });
      expect(Date.parse(report.resumesAt ?? "") - Date.now()).toBeGreaterThan(4 * HOUR - 60_000);
      // The last 3 UTC days reach at least 48 hours back: all six runs, "old" too.
      expect(report.days.reduce((sum, d) => sum + d.usd, 0)).toBeCloseTo(15.75, 6);
      expect(report.days.reduce((sum, d) => sum + d.runs, 0)).toBe(6);
      expect(report.days[0]?.day).toBe(new Date().toISOString().slice(0, 10));
      expect(report.days[0]?.types["claude-code"]).toBe(0.75);
      expect(report.costliest.map((t) => [t.taskId, t.usd])).toEqual([["a", 2], ["b", 2], ["c", 2], ["t1", 0.75]]);
      expect((await spendReport(spend, {}, 1)).remainingUsd).toBeNull();

      expect(await spend.deleteOlderThan(25 * HOUR)).toBe(1); // "old"
    });
  });

  describe.skipIf(!backend.available)(`the daily budget on ${backend.name}`, () => {
    const managers: TaskManager[] = [];
    let cleanup: () => Promise<void> = () => Promise.resolve();
    afterEach(async () => {
      for (const m of managers.splice(0)) await m.stop(0);
      await cleanup();
    });
    const make = (store: TaskStore, caps: (number | null)[], budgetUsdPerDay?: number) => {
      const manager = testManager(store, { maxPerDocument: 10, ...(budgetUsdPerDay !== undefined ? { budgetUsdPerDay } : {}) }, cliRegistry("/tmp").register(costlyExecutor(caps)));
      managers.push(manager);
      return manager;
    };

    it("once spent, holds the types whose runs cost money on every worker, saying until when; others run; room again when the spend is a day old", async () => {
      const opened = await openWithSecondConnection(backend);
      cleanup = opened.cleanup;
      const caps: (number | null)[] = [];
      const a = make(opened.store, caps, 1);
      const b = make(opened.other, caps, 1);
      await a.start();
      await b.start();

      const first = await a.enqueueTask({ type: "costly", title: "first", costUsd: 0.7, source: { documentId: "doc-1", driveId: "drive-1", origin: "document" } });
      expect((await finalStatus(a, first.task.id)).status).toBe("completed");
      const second = await a.enqueueTask({ type: "costly", title: "second", costUsd: 0.5 });
      expect((await finalStatus(a, second.task.id)).status).toBe("completed");
      // Each run started capped at what was left: the whole dollar, then 30 cents.
      expect(caps[0]).toBe(1);
      expect(caps[1]).toBeCloseTo(0.3, 6);
      // Whose writers asked for each: the first task's drive (a task document's there), the second the owner.
      expect((await new SpendStore(opened.store.db).byDrive(24 * HOUR, 10)).map((d) => [d.drive_id, d.cost_usd])).toEqual([["drive-1", 0.7], [null, 0.5]]);

      // 1.20 of 1.00: every worker holds "costly" (the other within its next read of the spend).
      await waitFor(() => (a.claimableTypes().includes("costly") || b.claimableTypes().includes("costly") ? undefined : true), 8000, "both workers to hold the costly type");
      const held = await b.enqueueTask({ type: "costly", title: "held", costUsd: 0.1 });
      const other = await b.enqueueTask({ type: "cli", title: "costs nothing", command: "true" });
      expect((await finalStatus(b, other.task.id)).status).toBe("completed");
      await sleep(600);
      expect((await a.getTask(held.task.id))?.status).toBe("pending");
      const why = await b.whyWaiting(held.task.id);
      expect(why?.code).toBe("over_budget");
      expect(why?.message).toMatch(/^the daily budget is spent \(\$1\.20 of \$1\.00 in the last 24 hours; TASK_BUDGET_USD_PER_DAY\); runs that cost money start again at /);
      // The first run's 70 cents leave the window 24 hours after it: then 50 of 100 cents are spent.
      expect(Math.abs(Date.parse(why?.until ?? "") - (Date.now() + 24 * HOUR))).toBeLessThan(60_000);
      expect(caps).toHaveLength(2);

      // A day later (the costs made older), a worker's next read of the spend lets it run.
      await opened.store.db.query("UPDATE ph_run_costs SET recorded_at = recorded_at - interval '25 hours'");
      expect((await finalStatus(a, held.task.id)).status).toBe("completed");
      expect(caps[2]).toBe(1);
    });

    it("tasks queued before the budget is spent are told, as it is, that it holds them and until when", async () => {
      const { store, cleanup: close } = await openWithSecondConnection(backend);
      cleanup = close;
      const caps: (number | null)[] = [];
      // One task of the document at a time: the second waits in the queue while the first spends the day's dollar.
      const manager = testManager(store, { maxPerDocument: 1, budgetUsdPerDay: 1 }, cliRegistry("/tmp").register(costlyExecutor(caps)));
      managers.push(manager);
      const waiting: [string, string, string][] = [];
      manager.on("waiting", (task, why) => waiting.push([task.id, why.code, why.message]));
      const source = { documentId: "doc-q", driveId: "drive-q", origin: "document" };
      const [dear, queued] = await manager.enqueueTasks([
        { type: "costly", title: "dear", costUsd: 1.5, priority: 90, source },
        { type: "costly", title: "queued behind it", costUsd: 0.1, priority: 10, source },
      ]);
      await manager.start();
      expect((await finalStatus(manager, dear?.task.id ?? "")).status).toBe("completed");
      const told = await waitFor(() => waiting.find(([id]) => id === queued?.task.id), 10_000, "the queued task to be told it waits");
      expect(told[1]).toBe("over_budget");
      expect(told[2]).toMatch(/^the daily budget is spent \(\$1\.50 of \$1\.00 in the last 24 hours; TASK_BUDGET_USD_PER_DAY\); runs that cost money start again at 20\d\d-/);
      expect((await manager.getTask(queued?.task.id ?? ""))?.status).toBe("pending");
      expect(waiting.filter(([id]) => id === queued?.task.id)).toHaveLength(1);
    });

    it("tells webhooks once that the budget is spent and once that it has room again, however many workers see it", async () => {
      const opened = await openWithReceiver(backend, "budget-alerts", ["budget.spent", "budget.available"]);
      const { receiver } = opened;
      cleanup = opened.cleanup;
      const caps: (number | null)[] = [];
      const a = make(opened.store, caps, 1);
      const b = make(opened.other, caps, 1);
      await a.start();
      await b.start();
      const { task } = await a.enqueueTask({ type: "costly", title: "dear", costUsd: 1.5 });
      expect((await finalStatus(a, task.id)).status).toBe("completed");
      await waitFor(() => receiver.received.length >= 1 || undefined, 10_000, "the budget.spent delivery");
      const spent = receiver.received[0]?.json as unknown as { event: string; budget: Record<string, unknown> };
      expect(spent.event).toBe("budget.spent");
      expect(spent.budget).toMatchObject({ spent: true, budgetUsdPerDay: 1, last24hUsd: 1.5 });
      expect(Math.abs(Date.parse(String(spent.budget.resumesAt)) - (Date.now() + 24 * HOUR))).toBeLessThan(60_000);
      // Both workers saw it (the second through the notification); the second told no one.
      await waitFor(() => (b.claimableTypes().includes("costly") ? undefined : true), 8000, "the second worker to hold the type");

      await opened.store.db.query("UPDATE ph_run_costs SET recorded_at = recorded_at - interval '25 hours'");
      await waitFor(() => receiver.received.length >= 2 || undefined, 15_000, "the budget.available delivery");
      expect(receiver.received[1]?.json).toMatchObject({ event: "budget.available", budget: { spent: false, last24hUsd: 0, resumesAt: null } });
      await sleep(6000); // both workers' next reads of the spend, and the sender's polls
      expect(receiver.received.map((r) => r.json.event)).toEqual(["budget.spent", "budget.available"]);
    }, 60_000);

    it("counts a failed run's cost too; without a budget nothing is held and runs get no cap", async () => {
      const { store, cleanup: close } = await openWithSecondConnection(backend);
      cleanup = close;
      const caps: (number | null)[] = [];
      const free = make(store, caps);
      await free.start();
      const costly = await free.enqueueTask({ type: "costly", title: "dear", costUsd: 50 });
      const failed = await free.enqueueTask({ type: "costly", title: "dear and broken", costUsd: 50, fail: true });
      expect((await finalStatus(free, costly.task.id)).status).toBe("completed");
      expect((await finalStatus(free, failed.task.id)).status).toBe("failed");
      expect(caps).toEqual([null, null]);
      expect((await new SpendStore(store.db).inWindow(24 * HOUR, null)).spentUsd).toBe(100);
    });
  });
}
