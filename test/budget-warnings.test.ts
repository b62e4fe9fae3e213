/**
 * Budget warnings (TASK_BUDGET_WARN_AT_PERCENT), on PGlite and PostgreSQL with two workers: the
 * webhooks that ask hear once when the daily budget's spend crosses its warning share and once when
 * a drive's does — before the budget is spent and work waits — and again only after the spend went
 * back under it. A drive's crossing, and its spending, are told as the run that did it ends.
 */
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import type { TaskStore } from "../src/store/task-store.js";
import type { ManagerSettings } from "../src/tasks/manager-settings.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import { costlyExecutor } from "./support/costly-executor.js";
import { cliRegistry, testManager } from "./support/manager.js";
import { sleep, waitFor } from "./support/process.js";
import { finalStatus } from "./support/scripted-executor.js";
import { BACKENDS } from "./support/stores.js";
import { openWithReceiver } from "./support/webhook-receiver.js";

const fromDocument = (driveId: string) => ({ documentId: `doc-${driveId}-${Math.random()}`, driveId, origin: "document", chainDepth: 0 });

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`budget warnings on ${backend.name}`, () => {
    const managers: TaskManager[] = [];
    let cleanup: () => Promise<void> = () => Promise.resolve();
    afterEach(async () => {
      for (const m of managers.splice(0)) await m.stop(0);
      await cleanup();
    });
    const make = (store: TaskStore, budgets: Pick<Partial<ManagerSettings>, "budgetUsdPerDay" | "budgetUsdPerDrivePerDay" | "budgetWarnAtPercent">) => {
      const manager = testManager(store, { maxPerDocument: 10, maxPerDrive: 10, ...budgets }, cliRegistry("/tmp").register(costlyExecutor([])));
      managers.push(manager);
      return manager;
    };
    /** Two workers over one store, and a receiver of the budget events. */
    const twoWorkers = async (budgets: Parameters<typeof make>[1], events: string[]) => {
      const opened = await openWithReceiver(backend, "budget-alerts", events);
      const { receiver } = opened;
      cleanup = opened.cleanup;
      const a = make(opened.store, budgets);
      const b = make(opened.other, budgets);
      await a.start();
      await b.start();
      const run = async (m: TaskManager, costUsd: number, source?: ReturnType<typeof fromDocument>) => (await finalStatus(m, (await m.enqueueTask({ type: "costly", title: "costs", costUsd, ...(source ? { source } : {}) })).task.id)).status;
      return { opened, receiver, a, b, run, events: () => receiver.received.map((r) => r.json.event) };
    };

    it("the daily budget: told once as its spend crosses the warning share, then spent; again only after it went back under", async () => {
      const { opened, receiver, a, b, run, events } = await twoWorkers({ budgetUsdPerDay: 1 }, ["budget.nearly_spent", "budget.spent", "budget.available"]);
      expect(await run(a, 0.5)).toBe("completed");
      await sleep(1000);
      expect(events()).toEqual([]); // half: under the 80 %
      expect(await run(b, 0.35)).toBe("completed");
      await waitFor(() => receiver.received.length >= 1 || undefined, 10_000, "the budget.nearly_spent delivery");
      expect(receiver.received[0]?.json).toMatchObject({ event: "budget.nearly_spent", budget: { budgetUsdPerDay: 1, last24hUsd: 0.85, percent: 85, warnAtPercent: 80, remainingUsd: expect.closeTo(0.15, 6) } });
      expect(await run(a, 0.05)).toBe("completed"); // 90 %: still past it, not told again
      expect(await run(b, 0.2)).toBe("completed"); // $1.10: spent
      await waitFor(() => receiver.received.length >= 2 || undefined, 10_000, "the budget.spent delivery");
      await sleep(6000); // both workers' next reads
      expect(events()).toEqual(["budget.nearly_spent", "budget.spent"]);

      // A day later: room again (nothing spent); then 90 % in one run is a crossing again.
      await opened.store.db.query("UPDATE ph_run_costs SET recorded_at = recorded_at - interval '25 hours'");
      await waitFor(() => receiver.received.length >= 3 || undefined, 15_000, "the budget.available delivery");
      expect(await run(a, 0.9)).toBe("completed");
      await waitFor(() => receiver.received.length >= 4 || undefined, 10_000, "the second budget.nearly_spent delivery");
      await sleep(6000);
      expect(events()).toEqual(["budget.nearly_spent", "budget.spent", "budget.available", "budget.nearly_spent"]);
    }, 90_000);

    it("a drive's budget: told as the run that crossed its warning share ends, and as the one that spent it ends, once each; the share is a setting", async () => {
      const { receiver, a, b, run, events } = await twoWorkers({ budgetUsdPerDrivePerDay: 2, budgetWarnAtPercent: 50 }, ["budget.drive_nearly_spent", "budget.drive_spent", "budget.nearly_spent"]);
      expect(await run(a, 0.9, fromDocument("team"))).toBe("completed"); // 45 %
      expect(await run(b, 1, fromDocument("elsewhere"))).toBe("completed"); // another drive at 50 %: its own crossing
      expect(await run(b, 0.2, fromDocument("team"))).toBe("completed"); // team at 55 %
      await waitFor(() => receiver.received.length >= 2 || undefined, 10_000, "the two budget.drive_nearly_spent deliveries");
      const warned = receiver.received.map((r) => r.json as unknown as { event: string; budget: Record<string, unknown> });
      expect(warned.map((w) => [w.event, w.budget.driveId])).toEqual([["budget.drive_nearly_spent", "elsewhere"], ["budget.drive_nearly_spent", "team"]]);
      expect(warned[1]?.budget).toMatchObject({ budgetUsd: 2, spentUsd: expect.closeTo(1.1, 6), remainingUsd: expect.closeTo(0.9, 6), percent: 55, warnAtPercent: 50, setting: "TASK_BUDGET_USD_PER_DRIVE_PER_DAY" });

      // team spends the rest: told as that run ends, before any of its tasks is held.
      expect(await run(a, 1, fromDocument("team"))).toBe("completed");
      await waitFor(() => receiver.received.length >= 3 || undefined, 10_000, "the budget.drive_spent delivery");
      expect(receiver.received[2]?.json).toMatchObject({ event: "budget.drive_spent", budget: { driveId: "team", budgetUsd: 2, spentUsd: expect.closeTo(2.1, 6) } });
      await sleep(1500);
      // No daily budget: no daily warning; each drive's crossing told once.
      expect(events()).toEqual(["budget.drive_nearly_spent", "budget.drive_nearly_spent", "budget.drive_spent"]);
    }, 60_000);
  });
}

describe("TASK_BUDGET_WARN_AT_PERCENT", () => {
  it("is 80 unless set, a whole percent from 1 to 99; anything else is refused naming the variable", () => {
    expect(loadConfig({}).TASK_BUDGET_WARN_AT_PERCENT).toBe(80);
    expect(loadConfig({ TASK_BUDGET_WARN_AT_PERCENT: "95" }).TASK_BUDGET_WARN_AT_PERCENT).toBe(95);
    for (const bad of ["0", "100", "eighty", "80%"]) expect(() => loadConfig({ TASK_BUDGET_WARN_AT_PERCENT: bad })).toThrow(/TASK_BUDGET_WARN_AT_PERCENT: must be/);
  });
});
