/**
 * Drive budgets set while the agents run (migration 042, src/queue/holder-budget-service.ts), on
 * PGlite and PostgreSQL with two workers: a budget set through the service holds the drive's
 * writers on every worker at once and wins over the settings; raised, the tasks waiting for it run
 * at once; "none" lets the drive off; removed, the settings hold it again. Webhooks hear at the
 * change itself when it leaves the drive spent or with room. Bad input names the field and value.
 */
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../src/logger.js";
import { HolderBudgetService } from "../src/queue/holder-budget-service.js";
import { SpendStore } from "../src/store/spend-store.js";
import type { TaskStore } from "../src/store/task-store.js";
import type { ManagerSettings } from "../src/tasks/manager-settings.js";
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
const fromDocument = (driveId: string) => ({ documentId: `doc-${driveId}-${Math.random()}`, driveId, origin: "document", chainDepth: 0 });

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`drive budgets set while the agents run, on ${backend.name}`, () => {
    const managers: TaskManager[] = [];
    let cleanup: () => Promise<void> = () => Promise.resolve();
    afterEach(async () => {
      for (const m of managers.splice(0)) await m.stop(0);
      await cleanup();
    });
    const make = (store: TaskStore, budgets: Pick<Partial<ManagerSettings>, "budgetUsdPerDrivePerDay" | "driveBudgetsUsdPerDay" | "spentDrivesRecheckMs">) => {
      const manager = testManager(store, { maxPerDocument: 10, maxPerDrive: 10, ...budgets }, cliRegistry("/tmp").register(costlyExecutor([])));
      managers.push(manager);
      return manager;
    };
    const serviceOf = (store: TaskStore, manager: TaskManager) => new HolderBudgetService(new SpendStore(store.db), manager.budgets.drives, silentLogger());

    it("holds the drive's writers on every worker at once, over the settings; raised, its waiting tasks run at once; none lets it off; removed, the settings hold it again", async () => {
      const opened = await openWithSecondConnection(backend);
      cleanup = opened.cleanup;
      const a = make(opened.store, { budgetUsdPerDrivePerDay: 1, driveBudgetsUsdPerDay: { team: 3 } });
      const b = make(opened.other, { budgetUsdPerDrivePerDay: 1, driveBudgetsUsdPerDay: { team: 3 } });
      const waiting: string[] = [];
      for (const m of [a, b]) m.on("waiting", (task) => waiting.push(task.id));
      await a.start();
      await b.start();
      const service = serviceOf(opened.store, a);

      // Set on a's side, held on b's: 50 cents instead of the named $3.
      const set = await service.set("team", { usdPerDay: 0.5, reason: "a trial" }, "alice");
      expect(set).toMatchObject({ driveId: "team", usdPerDay: 0.5, setting: "set by alice (ph-tasks budget)", reason: "a trial", setBy: "alice", settingsUsd: 3, spentUsd: 0, remainingUsd: 0.5, resumesAt: null });
      const first = await b.enqueueTask({ type: "costly", title: "first", costUsd: 0.6, source: fromDocument("team") });
      expect(capOf(await finalStatus(b, first.task.id))).toEqual({ cap: 0.5, capFrom: "drive", capSetting: "set by alice (ph-tasks budget)" });
      const held = await b.enqueueTask({ type: "costly", title: "held", costUsd: 0.1, source: fromDocument("team") });
      await waitFor(() => waiting.includes(held.task.id) || undefined, 10_000, "the task to wait for its drive's budget");
      expect((await a.whyWaiting(held.task.id))?.message).toMatch(/^its drive's daily budget is spent \(\$0\.60 of \$0\.50 in the last 24 hours by drive team's writers; set by alice \(ph-tasks budget\)\); it starts at 20/);
      expect(await a.getTask(held.task.id)).toMatchObject({ status: "pending", attempts: 0 });

      // Raised to $2 by bob: the held task runs now (not in 24 hours), capped at the rest.
      const raised = await service.set("team", { usdPerDay: 2 }, "bob");
      expect(raised).toMatchObject({ usdPerDay: 2, setBy: "bob", reason: "", resumesAt: null });
      // Read back after the wake: the held task's dime may be spent already.
      expect([0.6, 0.7].some((usd) => Math.abs(raised.spentUsd - usd) < 1e-9)).toBe(true);
      expect((raised.remainingUsd ?? 0) + raised.spentUsd).toBeCloseTo(2, 6);
      const ran = await finalStatus(a, held.task.id);
      expect(ran).toMatchObject({ status: "completed", attempts: 1 });
      expect(capOf(ran)).toEqual({ cap: expect.closeTo(1.4, 6), capFrom: "drive", capSetting: "set by bob (ph-tasks budget)" });
      expect((await service.list()).entries.map((d) => [d.driveId, d.usdPerDay, d.setBy])).toEqual([["team", 2, "bob"]]);
      expect((await spendReport(new SpendStore(opened.store.db), { perDrive: 1, namedDrives: { team: 3 } }, 1)).drives.map((d) => [d.driveId, d.budgetUsd, d.budgetSetting])).toEqual([["team", 2, "set by bob (ph-tasks budget)"]]);

      // None: the drive's writers are not held at all (no daily budget either: no cap).
      expect(await service.set("team", { usdPerDay: null, reason: "trusted" }, "alice")).toMatchObject({ usdPerDay: null, setting: "set by alice (ph-tasks budget): none", remainingUsd: null });
      const free = await b.enqueueTask({ type: "costly", title: "free", costUsd: 5, source: fromDocument("team") });
      expect(capOf(await finalStatus(b, free.task.id))).toEqual({ cap: null, capFrom: null, capSetting: null });

      // Removed: the named $3 holds it again ($5.70 spent: the next waits); a second removal finds nothing.
      expect(await service.remove("team", "alice")).toMatchObject({ driveId: "team", usdPerDay: 3, setting: "TASK_DRIVE_BUDGETS_USD_PER_DAY", setBy: null, spentUsd: expect.closeTo(5.7, 6), resumesAt: expect.any(String) });
      expect(await service.remove("team", "alice")).toBeUndefined();
      const after = await a.enqueueTask({ type: "costly", title: "after", costUsd: 0.1, source: fromDocument("team") });
      await waitFor(() => waiting.includes(after.task.id) || undefined, 10_000, "the task to wait under the named budget");
      expect((await b.whyWaiting(after.task.id))?.message).toContain("of $3.00 in the last 24 hours by drive team's writers; TASK_DRIVE_BUDGETS_USD_PER_DAY)");
      // Another drive: the default dollar, not listed (no budget of its own).
      expect((await service.list()).entries.map((d) => d.driveId)).toEqual(["team"]);
    });

    it("a budget raised while a worker reads the old one: the task it sends back is looked at again at once, not at the old budget's time", async () => {
      const opened = await openWithSecondConnection(backend);
      cleanup = opened.cleanup;
      const a = make(opened.store, { budgetUsdPerDrivePerDay: 1 });
      const waiting: string[] = [];
      a.on("waiting", (task) => waiting.push(task.id));
      await a.start();
      const service = serviceOf(opened.other, a);
      await finalStatus(a, (await a.enqueueTask({ type: "costly", title: "spends it", costUsd: 1.2, source: fromDocument("team") })).task.id);

      // The raise lands between the worker's read of the spent budget and its release of the
      // task: the raise's own wake-up finds the task running, not waiting, so it wakes nothing.
      const drives = a.budgets.drives;
      const read = drives.read.bind(drives);
      let raised = false;
      drives.read = async (id) => {
        const reading = await read(id);
        if (!raised && reading?.spent) {
          raised = true;
          await service.set("team", { usdPerDay: 5 }, "bob");
        }
        return reading;
      };
      const held = await a.enqueueTask({ type: "costly", title: "held", costUsd: 0.1, source: fromDocument("team") });
      const ran = await finalStatus(a, held.task.id);
      expect(raised).toBe(true);
      // Sent back once under the old budget, then run under the new one within seconds (not in 24 hours).
      expect(waiting).toContain(held.task.id);
      expect(ran).toMatchObject({ status: "completed", attempts: 1 });
      expect(capOf(ran)).toEqual({ cap: expect.closeTo(3.8, 6), capFrom: "drive", capSetting: "set by bob (ph-tasks budget)" });
    }, 60_000);

    it("tells webhooks at the change itself: a budget lowered below the spend is spent, raised again it has room", async () => {
      const opened = await openWithReceiver(backend, "drive-alerts", ["budget.drive_spent", "budget.drive_available"]);
      const { receiver } = opened;
      cleanup = opened.cleanup;
      const a = make(opened.store, { budgetUsdPerDrivePerDay: 5 });
      await a.start();
      await finalStatus(a, (await a.enqueueTask({ type: "costly", title: "spends", costUsd: 1.2, source: fromDocument("team") })).task.id);
      const service = serviceOf(opened.other, a);

      const lowered = await service.set("team", { usdPerDay: 1 }, "alice");
      expect(lowered).toMatchObject({ usdPerDay: 1, spentUsd: 1.2, remainingUsd: 0, resumesAt: expect.any(String) });
      await waitFor(() => receiver.received.length >= 1 || undefined, 10_000, "the budget.drive_spent delivery");
      expect(receiver.received[0]?.json).toMatchObject({ event: "budget.drive_spent", budget: { driveId: "team", budgetUsd: 1, spentUsd: 1.2, setting: "set by alice (ph-tasks budget)" } });

      await service.remove("team", "alice");
      await waitFor(() => receiver.received.length >= 2 || undefined, 10_000, "the budget.drive_available delivery");
      expect(receiver.received[1]?.json).toMatchObject({ event: "budget.drive_available", budget: { driveId: "team", budgetUsd: 5, remainingUsd: expect.closeTo(3.8, 6), setting: "TASK_BUDGET_USD_PER_DRIVE_PER_DAY" } });
      // Set again with room: nothing changed, nothing told.
      await service.set("team", { usdPerDay: 4 }, "alice");
      await sleep(1000);
      expect(receiver.received.map((r) => r.json.event)).toEqual(["budget.drive_spent", "budget.drive_available"]);
    }, 60_000);

    it("a drive whose writers stop asking is told when it has room again: the workers look at the spent drives every so often, told once", async () => {
      const opened = await openWithReceiver(backend, "drive-alerts", ["budget.drive_spent", "budget.drive_available"]);
      const { receiver } = opened;
      cleanup = opened.cleanup;
      const recheck = { budgetUsdPerDrivePerDay: 1, spentDrivesRecheckMs: 200 };
      const a = make(opened.store, recheck);
      const b = make(opened.other, recheck);
      const waiting: string[] = [];
      // Either worker may claim the held task and send it back: both are listened to.
      for (const m of [a, b]) m.on("waiting", (task) => waiting.push(task.id));
      await a.start();
      await b.start();
      await finalStatus(a, (await a.enqueueTask({ type: "costly", title: "spends it", costUsd: 1.2, source: fromDocument("team") })).task.id);
      const held = await a.enqueueTask({ type: "costly", title: "held", costUsd: 0.1, source: fromDocument("team") });
      await waitFor(() => waiting.includes(held.task.id) || undefined, 10_000, "the task to wait for its drive's budget");
      await waitFor(() => receiver.received.length >= 1 || undefined, 10_000, "the budget.drive_spent delivery");
      // Its writers give up: the task is cancelled, nothing of the drive will start again.
      await a.cancelTask(held.task.id);
      await sleep(1000); // several looks while still spent: nothing told
      expect(receiver.received.map((r) => r.json.event)).toEqual(["budget.drive_spent"]);

      // A day later the spend has left the window: a look tells it, once for both workers.
      await opened.store.db.query("UPDATE ph_run_costs SET recorded_at = recorded_at - interval '25 hours'");
      await waitFor(() => receiver.received.length >= 2 || undefined, 10_000, "the budget.drive_available delivery");
      expect(receiver.received[1]?.json).toMatchObject({ event: "budget.drive_available", budget: { driveId: "team", budgetUsd: 1, remainingUsd: 1, setting: "TASK_BUDGET_USD_PER_DRIVE_PER_DAY" } });
      await sleep(1000);
      expect(receiver.received.map((r) => r.json.event)).toEqual(["budget.drive_spent", "budget.drive_available"]);
    }, 60_000);

    it("refuses a bad drive id or amount naming the field and the value, and stores nothing", async () => {
      const opened = await openWithSecondConnection(backend);
      cleanup = opened.cleanup;
      const service = serviceOf(opened.store, make(opened.store, {}));
      const refusal = async (drive: string, input: unknown) => {
        const error = await service.set(drive, input, "alice").then(() => undefined, (e: unknown) => e);
        expect(error).toBeInstanceOf(ValidationError);
        return (error as ValidationError).errors;
      };
      expect(await refusal("a drive", { usdPerDay: 1 })).toEqual([{ field: "drive", message: "must be a drive id: no spaces, commas or '='", value: '"a drive"' }]);
      expect((await refusal("x".repeat(201), { usdPerDay: 1 }))[0]).toMatchObject({ field: "drive", message: "must be at most 200 characters" });
      for (const usdPerDay of [0, -1, "5", 2_000_000]) {
        const [error] = await refusal("team", { usdPerDay });
        expect(error).toMatchObject({ field: "usdPerDay", message: expect.stringContaining("more than 0 and at most 1000000"), value: JSON.stringify(usdPerDay) });
      }
      expect((await refusal("team", {}))[0]).toMatchObject({ field: "usdPerDay" });
      expect((await refusal("team", { usdPerDay: 1, reasons: "typo" }))[0]).toMatchObject({ field: "(root)", message: expect.stringContaining("reasons") });
      expect((await refusal("team", { usdPerDay: 1, reason: "r".repeat(501) }))[0]).toMatchObject({ field: "reason", message: "must be at most 500 characters" });
      expect((await service.list()).entries).toEqual([]);
    });
  });
}
