/**
 * The daily budget set while the agents run (migration 044, src/queue/daily-budget-service.ts), on
 * PGlite and PostgreSQL with two workers: a budget set through the service holds every worker at
 * once (announced, not waited for at the next read) and wins over TASK_BUDGET_USD_PER_DAY; raised,
 * the tasks waiting for it run at once; "none" lets runs off any daily budget; removed, the setting
 * holds again. A worker with no budget of its own picks one up; webhooks hear at the change itself
 * when it leaves the budget spent or with room; the metric follows. Bad input names field and value.
 */
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../src/logger.js";
import { TaskMetrics } from "../src/metrics.js";
import { DailyBudgetService } from "../src/queue/daily-budget-service.js";
import { SpendStore } from "../src/store/spend-store.js";
import type { TaskStore } from "../src/store/task-store.js";
import type { ManagerSettings } from "../src/tasks/manager-settings.js";
import { BUDGET_REFRESH_MS } from "../src/tasks/spend-budget.js";
import { spendReport } from "../src/tasks/spend-report.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import type { Task } from "../src/tasks/types.js";
import { ValidationError } from "../src/validation.js";
import { costlyExecutor } from "./support/costly-executor.js";
import { cliRegistry, testManager } from "./support/manager.js";
import { sleep, waitFor } from "./support/process.js";
import { finalStatus } from "./support/scripted-executor.js";
import { BACKENDS, openWithSecondConnection } from "./support/stores.js";
import { openWithReceiver } from "./support/webhook-receiver.js";

/** What a run was allowed to spend as it started, whose budget and which setting gave it (the costly executor's result). */
const capOf = (task: Task) => {
  const { cap, capFrom, capSetting } = task.result as { cap: number | null; capFrom: string | null; capSetting: string | null };
  return { cap, capFrom, capSetting };
};
/** Well within BUDGET_REFRESH_MS: a change seen this soon was announced, not read at the next look. */
const AT_ONCE_MS = BUDGET_REFRESH_MS / 2;

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`the daily budget set while the agents run, on ${backend.name}`, () => {
    const managers: TaskManager[] = [];
    let cleanup: () => Promise<void> = () => Promise.resolve();
    afterEach(async () => {
      for (const m of managers.splice(0)) await m.stop(0);
      await cleanup();
    });
    const make = (store: TaskStore, budgets: Pick<Partial<ManagerSettings>, "budgetUsdPerDay">) => {
      const manager = testManager(store, { maxPerDocument: 10, maxPerDrive: 10, ...budgets }, cliRegistry("/tmp").register(costlyExecutor([])));
      managers.push(manager);
      return manager;
    };
    const serviceOf = (store: TaskStore, settingUsd: number | undefined) => new DailyBudgetService(new SpendStore(store.db), settingUsd, silentLogger());
    /** Every worker holds `usd` (undefined: none) within AT_ONCE_MS of the change. */
    const heldBy = (workers: TaskManager[], usd: number | undefined) => waitFor(() => workers.every((m) => m.budgets.daily.limitUsd === usd) || undefined, AT_ONCE_MS, `every worker to hold the daily budget ${String(usd)}`);

    it("holds every worker at once, over TASK_BUDGET_USD_PER_DAY; raised, the waiting tasks run at once; none lets runs off; removed, the setting holds again", async () => {
      const opened = await openWithSecondConnection(backend);
      cleanup = opened.cleanup;
      const a = make(opened.store, { budgetUsdPerDay: 5 });
      const b = make(opened.other, { budgetUsdPerDay: 5 });
      await a.start();
      await b.start();
      const service = serviceOf(opened.store, 5);
      expect(await service.get()).toMatchObject({ usdPerDay: 5, setting: "TASK_BUDGET_USD_PER_DAY", setBy: null, settingsUsd: 5, spentUsd: 0, remainingUsd: 5, resumesAt: null });

      // Set on a's connection, held on b's: 50 cents instead of the setting's $5.
      const set = await service.set({ usdPerDay: 0.5, reason: "a trial" }, "alice");
      expect(set).toMatchObject({ usdPerDay: 0.5, setting: "set by alice (ph-tasks budget)", reason: "a trial", setBy: "alice", settingsUsd: 5, spentUsd: 0, remainingUsd: 0.5, resumesAt: null });
      await heldBy([a, b], 0.5);
      const first = await b.enqueueTask({ type: "costly", title: "first", costUsd: 0.6 });
      expect(capOf(await finalStatus(b, first.task.id))).toEqual({ cap: 0.5, capFrom: "daily", capSetting: "set by alice (ph-tasks budget)" });
      const held = await a.enqueueTask({ type: "costly", title: "held", costUsd: 0.1 });
      await waitFor(async () => (await b.whyWaiting(held.task.id))?.code === "over_budget" || undefined, 10_000, "the task to wait for the daily budget");
      expect((await b.whyWaiting(held.task.id))?.message).toMatch(/^the daily budget is spent \(\$0\.60 of \$0\.50 in the last 24 hours; set by alice \(ph-tasks budget\)\); runs that cost money start again at 20/);
      expect(await a.getTask(held.task.id)).toMatchObject({ status: "pending", attempts: 0 });
      expect((await service.get()).resumesAt).toEqual(expect.any(String));

      // Raised to $2 by bob: the held task runs now (not in 24 hours), capped at the rest.
      expect(await service.set({ usdPerDay: 2 }, "bob")).toMatchObject({ usdPerDay: 2, setBy: "bob", reason: "", resumesAt: null });
      const ran = await finalStatus(a, held.task.id);
      expect(ran).toMatchObject({ status: "completed", attempts: 1 });
      expect(capOf(ran)).toEqual({ cap: expect.closeTo(1.4, 6), capFrom: "daily", capSetting: "set by bob (ph-tasks budget)" });
      expect((await spendReport(new SpendStore(opened.store.db), { perDay: 5 }, 1))).toMatchObject({ budgetUsdPerDay: 2, budgetSetting: "set by bob (ph-tasks budget)", remainingUsd: expect.closeTo(1.3, 6) });

      // None: runs are held to no daily budget (no cap), though the setting says $5.
      expect(await service.set({ usdPerDay: null, reason: "a launch day" }, "alice")).toMatchObject({ usdPerDay: null, setting: "set by alice (ph-tasks budget): none", remainingUsd: null, resumesAt: null });
      await heldBy([a, b], undefined);
      const free = await b.enqueueTask({ type: "costly", title: "free", costUsd: 5 });
      expect(capOf(await finalStatus(b, free.task.id))).toEqual({ cap: null, capFrom: null, capSetting: null });
      expect((await spendReport(new SpendStore(opened.store.db), { perDay: 5 }, 1))).toMatchObject({ budgetUsdPerDay: null, budgetSetting: "set by alice (ph-tasks budget)" });

      // Removed: the setting's $5 holds again ($5.70 spent: the next waits); a second removal finds nothing.
      expect(await service.remove("alice")).toMatchObject({ usdPerDay: 5, setting: "TASK_BUDGET_USD_PER_DAY", setBy: null, spentUsd: expect.closeTo(5.7, 6), resumesAt: expect.any(String) });
      expect(await service.remove("alice")).toBeUndefined();
      await heldBy([a, b], 5);
      const after = await a.enqueueTask({ type: "costly", title: "after", costUsd: 0.1 });
      await waitFor(async () => (await b.whyWaiting(after.task.id))?.code === "over_budget" || undefined, 10_000, "the task to wait under the setting's budget");
      expect((await b.whyWaiting(after.task.id))?.message).toContain("of $5.00 in the last 24 hours; TASK_BUDGET_USD_PER_DAY)");
    }, 60_000);

    it("a worker without a budget of its own picks one up; webhooks hear at the change itself, once across workers; the metric follows", async () => {
      const opened = await openWithReceiver(backend, "alerts", ["budget.spent", "budget.available"]);
      const { receiver } = opened;
      cleanup = opened.cleanup;
      const a = make(opened.store, {});
      const b = make(opened.other, {});
      await a.start();
      await b.start();
      await finalStatus(a, (await a.enqueueTask({ type: "costly", title: "spends", costUsd: 1.2 })).task.id);
      const service = serviceOf(opened.other, undefined);
      const metrics = new TaskMetrics({ store: opened.store });
      expect(await metrics.registry.metrics()).toMatch(/^ph_tasks_budget_usd_per_day Nan$/m);

      // Lowered below the spend: spent, told once though both workers read it.
      expect(await service.set({ usdPerDay: 1 }, "alice")).toMatchObject({ usdPerDay: 1, spentUsd: 1.2, remainingUsd: 0, resumesAt: expect.any(String) });
      await heldBy([a, b], 1);
      await waitFor(() => receiver.received.length >= 1 || undefined, 10_000, "the budget.spent delivery");
      expect(receiver.received[0]?.json).toMatchObject({ event: "budget.spent", budget: { spent: true, budgetUsdPerDay: 1, last24hUsd: 1.2, setting: "set by alice (ph-tasks budget)", resumesAt: expect.any(String) } });
      expect(await metrics.registry.metrics()).toMatch(/^ph_tasks_budget_usd_per_day 1$/m);
      const held = await b.enqueueTask({ type: "costly", title: "held", costUsd: 0.1 });
      await sleep(500);
      expect(await a.getTask(held.task.id)).toMatchObject({ status: "pending" });

      // Removed (no setting): no budget at all, room again, the held task runs.
      await service.remove("alice");
      await waitFor(() => receiver.received.length >= 2 || undefined, 10_000, "the budget.available delivery");
      expect(receiver.received[1]?.json).toMatchObject({ event: "budget.available", budget: { spent: false, budgetUsdPerDay: null } });
      expect(await finalStatus(a, held.task.id)).toMatchObject({ status: "completed" });
      expect(await metrics.registry.metrics()).toMatch(/^ph_tasks_budget_usd_per_day Nan$/m);
      // Set again with room: nothing changed, nothing told.
      await service.set({ usdPerDay: 10 }, "alice");
      await heldBy([a, b], 10);
      await sleep(500);
      expect(receiver.received.map((r) => r.json.event)).toEqual(["budget.spent", "budget.available"]);
    }, 60_000);

    it("refuses a bad amount naming the field and the value, and stores nothing", async () => {
      const opened = await openWithSecondConnection(backend);
      cleanup = opened.cleanup;
      const service = serviceOf(opened.store, 3);
      const refusal = async (input: unknown) => {
        const error = await service.set(input, "alice").then(() => undefined, (e: unknown) => e);
        expect(error).toBeInstanceOf(ValidationError);
        return (error as ValidationError).errors;
      };
      for (const usdPerDay of [0, -1, "5", 2_000_000]) {
        const [error] = await refusal({ usdPerDay });
        expect(error).toMatchObject({ field: "usdPerDay", message: expect.stringContaining("more than 0 and at most 1000000"), value: JSON.stringify(usdPerDay) });
      }
      expect((await refusal({}))[0]).toMatchObject({ field: "usdPerDay" });
      expect((await refusal(null))[0]).toMatchObject({ field: "usdPerDay" });
      expect((await refusal({ usdPerDay: 1, reasons: "typo" }))[0]).toMatchObject({ field: "(root)", message: expect.stringContaining("reasons") });
      expect(await service.get()).toMatchObject({ usdPerDay: 3, setting: "TASK_BUDGET_USD_PER_DAY", setBy: null });
    });
  });
}
