/**
 * Each drive's own daily budget (TASK_BUDGET_USD_PER_DRIVE_PER_DAY, src/tasks/drive-budget.ts), on
 * PGlite and PostgreSQL with two workers: what one drive's writers asked for (task documents,
 * rules) is held to it, so that they cannot spend what every drive and the owner share. A run
 * starts capped at the drive's rest when that is the tighter; once the drive's budget is spent its
 * tasks go back to the queue — their attempt not counted — until it has room, saying why and until
 * when (to `whyWaiting` and as a "waiting" event its document hears), while other drives' tasks and
 * the owner's own (the API's, whose task documents sit in a local drive) run. A drive named in
 * TASK_DRIVE_BUDGETS_USD_PER_DAY is held to its own budget, with or without the default.
 */
import { afterEach, describe, expect, it } from "vitest";
import { SpendStore } from "../src/store/spend-store.js";
import { spendReport } from "../src/tasks/spend-report.js";
import type { ManagerSettings } from "../src/tasks/manager-settings.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import type { Task } from "../src/tasks/types.js";
import type { WaitingReason } from "../src/tasks/waiting-reason.js";
import { costlyExecutor } from "./support/costly-executor.js";
import { cliRegistry, testManager } from "./support/manager.js";
import { sleep, waitFor } from "./support/process.js";
import { finalStatus } from "./support/scripted-executor.js";
import { BACKENDS, openWithSecondConnection } from "./support/stores.js";
import type { TaskStore } from "../src/store/task-store.js";
import { openWithReceiver } from "./support/webhook-receiver.js";

const HOUR = 3_600_000;
/** What a run was allowed to spend as it started, and whose budget that was (the costly executor's result). */
const capOf = (task: Task) => {
  const { cap, capFrom } = task.result as { cap: number | null; capFrom: string | null };
  return { cap, capFrom };
};
/** Who asked: a task document in `driveId`, a rule that saw a document change there, or the API (its task document in a local drive). */
const fromDocument = (driveId: string) => ({ documentId: `doc-${driveId}-${Math.random()}`, driveId, origin: "document", chainDepth: 0 });
const fromRule = (driveId: string) => ({ documentId: `watched-${Math.random()}`, driveId, origin: "rule:review" });
const fromApi = () => ({ documentId: `api-doc-${Math.random()}`, driveId: "local-drive-0", origin: "api" });

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`the budget per drive on ${backend.name}`, () => {
    const managers: TaskManager[] = [];
    let cleanup: () => Promise<void> = () => Promise.resolve();
    afterEach(async () => {
      for (const m of managers.splice(0)) await m.stop(0);
      await cleanup();
      runs.length = 0;
    });
    const runs: (number | null)[] = [];
    const make = (store: TaskStore, budgets: Pick<Partial<ManagerSettings>, "budgetUsdPerDay" | "budgetUsdPerDrivePerDay" | "driveBudgetsUsdPerDay">) => {
      const manager = testManager(store, { maxPerDocument: 10, maxPerDrive: 10, ...budgets }, cliRegistry("/tmp").register(costlyExecutor(runs)));
      managers.push(manager);
      return manager;
    };

    it("holds a drive's writers to their own budget on every worker: the rest caps each run, then their tasks wait until it has room while other drives' and the owner's run", async () => {
      const opened = await openWithSecondConnection(backend);
      cleanup = opened.cleanup;
      const a = make(opened.store, { budgetUsdPerDay: 10, budgetUsdPerDrivePerDay: 1 });
      const b = make(opened.other, { budgetUsdPerDay: 10, budgetUsdPerDrivePerDay: 1 });
      const waiting: [Task, WaitingReason][] = [];
      for (const m of [a, b]) m.on("waiting", (task, why) => waiting.push([task, why]));
      await a.start();
      await b.start();

      // Drive "team": 70 cents of its dollar (the run capped at the dollar, the tighter of the two budgets), then 50 more (capped at 30 cents).
      const first = await a.enqueueTask({ type: "costly", title: "first", costUsd: 0.7, source: fromDocument("team") });
      expect(capOf(await finalStatus(a, first.task.id))).toEqual({ cap: 1, capFrom: "drive" });
      const second = await b.enqueueTask({ type: "costly", title: "second", costUsd: 0.5, source: fromRule("team") });
      expect(capOf(await finalStatus(b, second.task.id))).toEqual({ cap: expect.closeTo(0.3, 6), capFrom: "drive" });

      // 1.20 of team's 1.00: its next task — whichever worker claims it — goes back to wait, its attempt not counted.
      const held = await a.enqueueTask({ type: "costly", title: "held", costUsd: 0.1, source: fromDocument("team") });
      await waitFor(() => waiting.find(([task]) => task.id === held.task.id), 10_000, "the held task to go back to the queue");
      const stored = await a.getTask(held.task.id);
      expect(stored).toMatchObject({ status: "pending", attempts: 0 });
      // Not claimable before the first run's 70 cents leave the window (then 50 of 100 cents): 24 hours from the first run.
      expect(Math.abs((stored?.runtime.runAt?.getTime() ?? 0) - (Date.now() + 24 * HOUR))).toBeLessThan(60_000);
      const why = await b.whyWaiting(held.task.id);
      expect(why?.code).toBe("drive_over_budget");
      expect(why?.message).toMatch(/^its drive's daily budget is spent \(\$1\.20 of \$1\.00 in the last 24 hours by drive team's writers; TASK_BUDGET_USD_PER_DRIVE_PER_DAY\); it starts at 20\d\d-/);
      expect(Math.abs(Date.parse(why?.until ?? "") - (stored?.runtime.runAt?.getTime() ?? 0))).toBeLessThan(5000);
      expect(waiting.find(([task]) => task.id === held.task.id)?.[1]).toMatchObject({ code: "drive_over_budget", message: expect.stringContaining("by drive team's writers") });
      // A rule's task from the same drive is held as well.
      const ruled = await b.enqueueTask({ type: "costly", title: "ruled", costUsd: 0.1, source: fromRule("team") });
      await waitFor(() => waiting.find(([task]) => task.id === ruled.task.id), 10_000, "the rule's task to go back to the queue");

      // Another drive's writers, and the owner's own task (API: its document in a local drive), run: capped at that drive's dollar, at the daily budget's rest.
      const other = await b.enqueueTask({ type: "costly", title: "other drive", costUsd: 0.2, source: fromDocument("elsewhere") });
      expect(capOf(await finalStatus(b, other.task.id))).toEqual({ cap: 1, capFrom: "drive" });
      const owner = await a.enqueueTask({ type: "costly", title: "the owner's", costUsd: 3, source: fromApi() });
      const ownerCap = capOf(await finalStatus(a, owner.task.id));
      expect(ownerCap.capFrom).toBe("daily");
      expect(ownerCap.cap).toBeGreaterThan(8.5); // 10 less 1.40 (or 1.20, the other worker's 20 cents not read yet)
      expect(runs).toHaveLength(4); // the held ones never ran
      expect((await a.getTask(held.task.id))?.status).toBe("pending");

      // The spend per drive: team's writers past their budget and until when; the owner's own apart.
      const report = await spendReport(new SpendStore(opened.store.db), { perDay: 10, perDrive: 1 }, 1);
      expect(report.last24h.usd).toBeCloseTo(4.4, 6);
      expect(report.drives.map((d) => [d.driveId, d.usd, d.resumesAt === null ? null : "spent"])).toEqual([[null, 3, null], ["team", expect.closeTo(1.2, 6), "spent"], ["elsewhere", 0.2, null]]);
      expect(Math.abs(Date.parse(report.drives[1]?.resumesAt ?? "") - Date.parse(why?.until ?? ""))).toBeLessThan(5000);

      // A day later the drive has room: the held tasks run at their run-at, each its first attempt, capped by the drive's dollar.
      await opened.store.db.query("UPDATE ph_run_costs SET recorded_at = recorded_at - interval '25 hours'");
      await opened.store.db.query("UPDATE ph_tasks SET run_at = now() WHERE id = ANY($1)", [[held.task.id, ruled.task.id]]);
      for (const id of [held.task.id, ruled.task.id]) {
        const ran = await finalStatus(a, id);
        expect(ran).toMatchObject({ status: "completed", attempts: 1 });
        expect(capOf(ran).capFrom).toBe("drive");
        expect(capOf(ran).cap).toBeGreaterThanOrEqual(0.9 - 1e-9); // the drive's dollar, less the other's dime if it ended first
      }
    });

    it("a worker started with a raised budget looks at the tasks held for it at once: they run, and a task for later stays for later", async () => {
      const opened = await openWithSecondConnection(backend);
      cleanup = opened.cleanup;
      const a = make(opened.store, { budgetUsdPerDrivePerDay: 1 });
      const waiting: string[] = [];
      a.on("waiting", (task) => waiting.push(task.id));
      await a.start();
      const spent = await a.enqueueTask({ type: "costly", title: "spends it", costUsd: 1.2, source: fromDocument("team") });
      await finalStatus(a, spent.task.id);
      const held = await a.enqueueTask({ type: "costly", title: "held", costUsd: 0.1, source: fromDocument("team") });
      await waitFor(() => waiting.includes(held.task.id) || undefined, 10_000, "the task to wait for its drive's budget");
      const later = await a.enqueueTask({ type: "costly", title: "for later", costUsd: 0.1, source: fromDocument("team"), runAt: new Date(Date.now() + HOUR).toISOString() });
      const laterAt = (await a.getTask(later.task.id))?.runtime.runAt?.getTime();
      await a.stop(0);

      // The owner raises the drive's budget to $5 and starts the agent again (another worker here).
      const b = make(opened.other, { budgetUsdPerDrivePerDay: 5 });
      await b.start();
      const ran = await finalStatus(b, held.task.id);
      expect(ran).toMatchObject({ status: "completed", attempts: 1 });
      expect(capOf(ran)).toEqual({ cap: expect.closeTo(3.8, 6), capFrom: "drive" });
      const stillLater = await b.getTask(later.task.id);
      expect(stillLater?.status).toBe("pending");
      expect(stillLater?.runtime.runAt?.getTime()).toBe(laterAt);
    });

    it("tells webhooks once that a drive's budget is spent and once that it has room again, however many of its tasks either worker holds", async () => {
      const opened = await openWithReceiver(backend, "drive-alerts", ["budget.drive_spent", "budget.drive_available"]);
      const { receiver } = opened;
      cleanup = opened.cleanup;
      const a = make(opened.store, { budgetUsdPerDrivePerDay: 1 });
      const b = make(opened.other, { budgetUsdPerDrivePerDay: 1 });
      const waiting: string[] = [];
      for (const m of [a, b]) m.on("waiting", (task) => waiting.push(task.id));
      await a.start();
      await b.start();
      await finalStatus(a, (await a.enqueueTask({ type: "costly", title: "spends it", costUsd: 1.2, source: fromDocument("team") })).task.id);
      const held: string[] = [];
      for (const m of [a, b, a]) held.push((await m.enqueueTask({ type: "costly", title: "held", costUsd: 0.1, source: fromDocument("team") })).task.id);
      await waitFor(() => held.every((id) => waiting.includes(id)) || undefined, 10_000, "the three tasks to wait");
      await waitFor(() => receiver.received.length >= 1 || undefined, 10_000, "the budget.drive_spent delivery");
      const spent = receiver.received[0]?.json as unknown as { event: string; budget: Record<string, unknown> };
      expect(spent).toMatchObject({ event: "budget.drive_spent", budget: { driveId: "team", budgetUsd: 1, spentUsd: 1.2, setting: "TASK_BUDGET_USD_PER_DRIVE_PER_DAY", windowHours: 24 } });
      expect(Math.abs(Date.parse(String(spent.budget.resumesAt)) - (Date.now() + 24 * HOUR))).toBeLessThan(60_000);

      // A day later its tasks start again: told once that it has room.
      await opened.store.db.query("UPDATE ph_run_costs SET recorded_at = recorded_at - interval '25 hours'");
      await opened.store.db.query("UPDATE ph_tasks SET run_at = now() WHERE id = ANY($1)", [held]);
      for (const id of held) expect((await finalStatus(a, id)).status).toBe("completed");
      await waitFor(() => receiver.received.length >= 2 || undefined, 10_000, "the budget.drive_available delivery");
      expect(receiver.received[1]?.json).toMatchObject({ event: "budget.drive_available", budget: { driveId: "team", budgetUsd: 1, remainingUsd: 1 } });
      await sleep(1000); // the sender's next polls
      expect(receiver.received.map((r) => r.json.event)).toEqual(["budget.drive_spent", "budget.drive_available"]);
    }, 60_000);

    it("a drive named with a budget of its own is held to that one; without a default, only the named drives are held", async () => {
      const opened = await openWithSecondConnection(backend);
      cleanup = opened.cleanup;
      const a = make(opened.store, { budgetUsdPerDrivePerDay: 1, driveBudgetsUsdPerDay: { trusted: 3 } });
      await a.start();
      const run = async (driveId: string, costUsd: number) => {
        const { task } = await a.enqueueTask({ type: "costly", title: `${driveId}'s`, costUsd, source: fromDocument(driveId) });
        const ended = await finalStatus(a, task.id);
        return { ...capOf(ended), setting: (ended.result as { capSetting: string | null }).capSetting };
      };
      // trusted: its own $3 (2 spent, then a dollar left); team: the default dollar. A run is told
      // which setting gave its cap (what claude's stop message names).
      expect(await run("trusted", 2)).toEqual({ cap: 3, capFrom: "drive", setting: "TASK_DRIVE_BUDGETS_USD_PER_DAY" });
      expect(await run("trusted", 0.5)).toEqual({ cap: 1, capFrom: "drive", setting: "TASK_DRIVE_BUDGETS_USD_PER_DAY" });
      expect(await run("team", 0.5)).toEqual({ cap: 1, capFrom: "drive", setting: "TASK_BUDGET_USD_PER_DRIVE_PER_DAY" });
      expect((await spendReport(new SpendStore(opened.store.db), { perDrive: 1, namedDrives: { trusted: 3 } }, 1)).drives.map((d) => [d.driveId, d.budgetUsd, d.resumesAt])).toEqual([["trusted", 3, null], ["team", 1, null]]);
      await a.stop(0);

      // Only "guests" is named, and no default: its writers are held past 50 cents; another drive's run uncapped.
      const b = make(opened.other, { driveBudgetsUsdPerDay: { guests: 0.5 } });
      const waiting: string[] = [];
      b.on("waiting", (task) => waiting.push(task.id));
      await b.start();
      const first = await b.enqueueTask({ type: "costly", title: "guests' first", costUsd: 0.6, source: fromDocument("guests") });
      expect(capOf(await finalStatus(b, first.task.id))).toEqual({ cap: 0.5, capFrom: "drive" });
      const held = await b.enqueueTask({ type: "costly", title: "guests' second", costUsd: 0.1, source: fromDocument("guests") });
      await waitFor(() => waiting.includes(held.task.id) || undefined, 10_000, "the guests' second task to wait");
      expect((await b.whyWaiting(held.task.id))?.message).toMatch(/^its drive's daily budget is spent \(\$0\.60 of \$0\.50 in the last 24 hours by drive guests's writers; TASK_DRIVE_BUDGETS_USD_PER_DAY\); it starts at /);
      const team = await b.enqueueTask({ type: "costly", title: "team's", costUsd: 5, source: fromDocument("team") });
      expect(capOf(await finalStatus(b, team.task.id))).toEqual({ cap: null, capFrom: null });
    });

    it("without a budget per drive nothing is held per drive, and the daily budget alone caps the runs", async () => {
      const opened = await openWithSecondConnection(backend);
      cleanup = opened.cleanup;
      const a = make(opened.store, { budgetUsdPerDay: 10 });
      await a.start();
      const caps = [];
      for (const costUsd of [2, 2]) {
        const { task } = await a.enqueueTask({ type: "costly", title: "team's", costUsd, source: fromDocument("team") });
        caps.push(capOf(await finalStatus(a, task.id)));
      }
      expect(caps).toEqual([{ cap: 10, capFrom: "daily" }, { cap: 8, capFrom: "daily" }]);
      expect(await a.budgets.drives.spentFor({ source: fromDocument("team") })).toBeUndefined();
    });
  });
}
