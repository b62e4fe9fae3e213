/**
 * Each person's own daily budget (TASK_BUDGET_USD_PER_PERSON_PER_DAY, TASK_PERSON_BUDGETS_USD_PER_DAY,
 * or one set while the agents run; src/tasks/holder-budget.ts), on PGlite and PostgreSQL with two
 * workers: what one named person asked for (a task's `source.by`, a named API token or app key) is
 * held to it wherever it comes from (the API, a document, a rule), so that no one person spends
 * what everyone shares. A run starts capped at the person's rest when that is the tightest; once
 * spent their tasks go back to the queue — their attempt not counted — until it has room, saying
 * why and until when, while other people's and no one's tasks run. A drive's budget and a person's
 * hold together: the tighter caps, either holds. Webhooks are told once.
 */
import { afterEach, describe, expect, it } from "vitest";
import { HolderBudgetService } from "../src/queue/holder-budget-service.js";
import { silentLogger } from "../src/logger.js";
import { TaskMetrics } from "../src/metrics.js";
import { SpendStore } from "../src/store/spend-store.js";
import { spendReport } from "../src/tasks/spend-report.js";
import type { ManagerSettings } from "../src/tasks/manager-settings.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import type { Task } from "../src/tasks/types.js";
import type { WaitingReason } from "../src/tasks/waiting-reason.js";
import type { TaskStore } from "../src/store/task-store.js";
import { costlyExecutor } from "./support/costly-executor.js";
import { cliRegistry, testManager } from "./support/manager.js";
import { sleep, waitFor } from "./support/process.js";
import { finalStatus } from "./support/scripted-executor.js";
import { BACKENDS, openWithSecondConnection } from "./support/stores.js";
import { openWithReceiver } from "./support/webhook-receiver.js";

const HOUR = 3_600_000;
const capOf = (task: Task) => {
  const { cap, capFrom, capSetting } = task.result as { cap: number | null; capFrom: string | null; capSetting: string | null };
  return { cap, capFrom, capSetting };
};
/** Asked for by `by` through the API (its task document in a local drive), or by a document's writer in `driveId`. */
const fromApi = (by?: string) => ({ documentId: `api-doc-${Math.random()}`, driveId: "local-drive-0", origin: "api", ...(by ? { by } : {}) });
const fromDocument = (driveId: string, by?: string) => ({ documentId: `doc-${Math.random()}`, driveId, origin: "document", chainDepth: 0, ...(by ? { by } : {}) });

type Budgets = Pick<Partial<ManagerSettings>, "budgetUsdPerDay" | "budgetUsdPerDrivePerDay" | "budgetUsdPerPersonPerDay" | "personBudgetsUsdPerDay">;

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`the budget per person on ${backend.name}`, () => {
    const managers: TaskManager[] = [];
    let cleanup: () => Promise<void> = () => Promise.resolve();
    const runs: (number | null)[] = [];
    afterEach(async () => {
      for (const m of managers.splice(0)) await m.stop(0);
      await cleanup();
      runs.length = 0;
    });
    const make = (store: TaskStore, budgets: Budgets) => {
      const manager = testManager(store, { maxPerDocument: 10, maxPerDrive: 10, ...budgets }, cliRegistry("/tmp").register(costlyExecutor(runs)));
      managers.push(manager);
      return manager;
    };

    it("holds what alice asks for to her own budget on every worker: her rest caps each run, then her tasks wait until it has room while bob's and no one's run", async () => {
      const opened = await openWithSecondConnection(backend);
      cleanup = opened.cleanup;
      const a = make(opened.store, { budgetUsdPerDay: 10, budgetUsdPerPersonPerDay: 1 });
      const b = make(opened.other, { budgetUsdPerDay: 10, budgetUsdPerPersonPerDay: 1 });
      const waiting: [Task, WaitingReason][] = [];
      for (const m of [a, b]) m.on("waiting", (task, why) => waiting.push([task, why]));
      await a.start();
      await b.start();

      // 70 cents of her dollar through the API (capped at the dollar), 50 more from a document she wrote (capped at 30 cents).
      const first = await a.enqueueTask({ type: "costly", title: "first", costUsd: 0.7, source: fromApi("alice") });
      expect(capOf(await finalStatus(a, first.task.id))).toEqual({ cap: 1, capFrom: "person", capSetting: "TASK_BUDGET_USD_PER_PERSON_PER_DAY" });
      const second = await b.enqueueTask({ type: "costly", title: "second", costUsd: 0.5, source: fromDocument("team", "alice") });
      expect(capOf(await finalStatus(b, second.task.id))).toMatchObject({ cap: expect.closeTo(0.3, 6), capFrom: "person" });

      // $1.20 of her $1.00: her next task goes back to wait, its attempt not counted, until the first run leaves the window.
      const held = await a.enqueueTask({ type: "costly", title: "held", costUsd: 0.1, source: fromApi("alice") });
      await waitFor(() => waiting.find(([task]) => task.id === held.task.id), 10_000, "alice's task to go back to the queue");
      const stored = await a.getTask(held.task.id);
      expect(stored).toMatchObject({ status: "pending", attempts: 0 });
      expect(Math.abs((stored?.runtime.runAt?.getTime() ?? 0) - (Date.now() + 24 * HOUR))).toBeLessThan(60_000);
      const why = await b.whyWaiting(held.task.id);
      expect(why?.code).toBe("person_over_budget");
      expect(why?.message).toMatch(/^the daily budget of alice, who asked for it, is spent \(\$1\.20 of \$1\.00 in the last 24 hours on what alice asked for; TASK_BUDGET_USD_PER_PERSON_PER_DAY\); it starts at 20\d\d-/);
      expect(waiting.find(([task]) => task.id === held.task.id)?.[1]).toMatchObject({ code: "person_over_budget" });

      // Bob's run and one no one named run: bob capped at his own dollar, the unnamed at the daily budget's rest.
      const bobs = await b.enqueueTask({ type: "costly", title: "bob's", costUsd: 0.2, source: fromDocument("team", "bob") });
      expect(capOf(await finalStatus(b, bobs.task.id))).toMatchObject({ cap: 1, capFrom: "person" });
      const unnamed = await a.enqueueTask({ type: "costly", title: "no one's", costUsd: 3, source: fromApi() });
      const unnamedCap = capOf(await finalStatus(a, unnamed.task.id));
      expect(unnamedCap.capFrom).toBe("daily");
      expect(unnamedCap.cap).toBeGreaterThan(8.5);
      expect(runs).toHaveLength(4);
      expect((await a.getTask(held.task.id))?.status).toBe("pending");

      // The metrics: one person recorded spent, across workers; the setting.
      await waitFor(async () => ((await new SpendStore(opened.store.db).spentHolderCount("person")) === 1) || undefined, 10_000, "alice recorded spent");
      const metrics = await new TaskMetrics({ store: opened.store, budgetUsdPerPersonPerDay: 1 }).registry.metrics();
      expect(metrics).toMatch(/^ph_tasks_people_over_budget 1$/m);
      expect(metrics).toMatch(/^ph_tasks_budget_usd_per_person_per_day 1$/m);

      // The spend report: alice past her budget and until when, bob with room.
      const report = await spendReport(new SpendStore(opened.store.db), { perDay: 10, perPerson: 1 }, 1);
      expect(report.people.map((p) => [p.by, p.usd, p.budgetUsd, p.resumesAt === null ? null : "spent"])).toEqual([[null, 3, null, null], ["alice", expect.closeTo(1.2, 6), 1, "spent"], ["bob", 0.2, 1, null]]);

      // A day later she has room: the held task runs at its run-at, its first attempt.
      await opened.store.db.query("UPDATE ph_run_costs SET recorded_at = recorded_at - interval '25 hours'");
      await opened.store.db.query("UPDATE ph_tasks SET run_at = now() WHERE id = $1", [held.task.id]);
      const ran = await finalStatus(a, held.task.id);
      expect(ran).toMatchObject({ status: "completed", attempts: 1 });
      expect(capOf(ran)).toMatchObject({ cap: 1, capFrom: "person" });
    });

    it("a drive's budget and a person's hold together: the tighter caps the run, and either holds the task", async () => {
      const opened = await openWithSecondConnection(backend);
      cleanup = opened.cleanup;
      const a = make(opened.store, { budgetUsdPerDrivePerDay: 2, budgetUsdPerPersonPerDay: 1 });
      const waiting: [Task, WaitingReason][] = [];
      a.on("waiting", (task, why) => waiting.push([task, why]));
      await a.start();
      // Alice in drive team: her dollar is tighter than team's two.
      const first = await a.enqueueTask({ type: "costly", title: "alice in team", costUsd: 0.9, source: fromDocument("team", "alice") });
      expect(capOf(await finalStatus(a, first.task.id))).toMatchObject({ cap: 1, capFrom: "person" });
      // Bob in team: team has $1.10 left, bob his whole dollar — his is tighter; then $1.00 spent by him.
      const bob = await a.enqueueTask({ type: "costly", title: "bob in team", costUsd: 1.0, source: fromDocument("team", "bob") });
      expect(capOf(await finalStatus(a, bob.task.id))).toMatchObject({ cap: 1, capFrom: "person" });
      // Carol in team: team has 10 cents left, carol her dollar — the drive's is tighter.
      const carol = await a.enqueueTask({ type: "costly", title: "carol in team", costUsd: 0.2, source: fromDocument("team", "carol") });
      expect(capOf(await finalStatus(a, carol.task.id))).toMatchObject({ cap: expect.closeTo(0.1, 6), capFrom: "drive" });
      // Team spent ($2.10 of $2): carol's next waits for the drive (read first), though she has room.
      const heldByDrive = await a.enqueueTask({ type: "costly", title: "carol again", costUsd: 0.1, source: fromDocument("team", "carol") });
      await waitFor(() => waiting.find(([task]) => task.id === heldByDrive.task.id), 10_000, "carol's task to wait for the drive");
      expect(waiting.find(([task]) => task.id === heldByDrive.task.id)?.[1].code).toBe("drive_over_budget");
      // Bob elsewhere: the drive has room, he has not.
      const heldByPerson = await a.enqueueTask({ type: "costly", title: "bob elsewhere", costUsd: 0.1, source: fromDocument("elsewhere", "bob") });
      await waitFor(() => waiting.find(([task]) => task.id === heldByPerson.task.id), 10_000, "bob's task to wait for his budget");
      expect(waiting.find(([task]) => task.id === heldByPerson.task.id)?.[1].code).toBe("person_over_budget");
    });

    it("a person named with a budget of their own is held to it; without a default only the named are; one set while the agents run wins, at once on the other worker", async () => {
      const opened = await openWithSecondConnection(backend);
      cleanup = opened.cleanup;
      const a = make(opened.store, { personBudgetsUsdPerDay: { intern: 0.5 } });
      const b = make(opened.other, { personBudgetsUsdPerDay: { intern: 0.5 } });
      const waiting: string[] = [];
      for (const m of [a, b]) m.on("waiting", (task) => waiting.push(task.id));
      await a.start();
      await b.start();
      const first = await a.enqueueTask({ type: "costly", title: "intern's first", costUsd: 0.6, source: fromApi("intern") });
      expect(capOf(await finalStatus(a, first.task.id))).toEqual({ cap: 0.5, capFrom: "person", capSetting: "TASK_PERSON_BUDGETS_USD_PER_DAY" });
      const held = await a.enqueueTask({ type: "costly", title: "intern's second", costUsd: 0.1, source: fromApi("intern") });
      await waitFor(() => waiting.includes(held.task.id) || undefined, 10_000, "the intern's second task to wait");
      expect((await b.whyWaiting(held.task.id))?.message).toMatch(/TASK_PERSON_BUDGETS_USD_PER_DAY\); it starts at /);
      // Alice is not named and there is no default: not held.
      const alice = await b.enqueueTask({ type: "costly", title: "alice's", costUsd: 5, source: fromApi("alice") });
      expect(capOf(await finalStatus(b, alice.task.id))).toEqual({ cap: null, capFrom: null, capSetting: null });

      // Bob (an admin) raises the intern's budget on worker b's service: the held task runs at once, capped at the $1.40 left.
      const service = new HolderBudgetService(new SpendStore(opened.other.db), b.budgets.people, silentLogger());
      const raised = await service.set("intern", { usdPerDay: 2, reason: "a good week" }, "bob");
      expect(raised).toMatchObject({ person: "intern", usdPerDay: 2, setting: "set by bob (ph-tasks budget)", settingsUsd: 0.5, reason: "a good week", setBy: "bob", resumesAt: null });
      // Read back after the wake-up: the held task (10 cents) may have run already.
      expect(raised.spentUsd + (raised.remainingUsd ?? 0)).toBeCloseTo(2, 6);
      expect(raised.spentUsd).toBeGreaterThanOrEqual(0.6 - 1e-9);
      const ran = await finalStatus(a, held.task.id);
      expect(ran).toMatchObject({ status: "completed", attempts: 1 });
      expect(capOf(ran)).toEqual({ cap: expect.closeTo(1.4, 6), capFrom: "person", capSetting: "set by bob (ph-tasks budget)" });
      expect((await service.list()).entries.map((e) => [e.person, e.usdPerDay, e.setBy])).toEqual([["intern", 2, "bob"]]);

      // Lowered under what she spent: her next task waits saying who set it; removed, the setting's 50 cents hold.
      await service.set("intern", { usdPerDay: 0.25 }, "bob");
      const lowered = await b.enqueueTask({ type: "costly", title: "intern's third", costUsd: 0.1, source: fromApi("intern") });
      await waitFor(() => waiting.includes(lowered.task.id) || undefined, 10_000, "the intern's third task to wait");
      expect((await a.whyWaiting(lowered.task.id))?.message).toMatch(/^the daily budget of intern, who asked for it, is spent \(\$0\.70 of \$0\.25 in the last 24 hours on what intern asked for; set by bob \(ph-tasks budget\)\)/);
      const waitsBefore = waiting.filter((id) => id === lowered.task.id).length;
      expect(await service.remove("intern", "bob")).toMatchObject({ person: "intern", usdPerDay: 0.5, setting: "TASK_PERSON_BUDGETS_USD_PER_DAY", setBy: null });
      expect(await service.remove("intern", "bob")).toBeUndefined();
      // The removal woke it: a worker looks again under the setting's 50 cents (still spent) and sends it back. Set only
      // after that: a change made while a worker is looking again is not seen by that look (noted in the README).
      await waitFor(() => waiting.filter((id) => id === lowered.task.id).length > waitsBefore || undefined, 10_000, "the third task to wait again under the setting");
      // Set to none: she is held to no budget; the task waiting runs at once, uncapped.
      await service.set("intern", { usdPerDay: null }, "bob");
      expect(capOf(await finalStatus(a, lowered.task.id))).toEqual({ cap: null, capFrom: null, capSetting: null });
    });

    it("a worker started with a raised budget per person looks at the tasks held for it at once: they run", async () => {
      const opened = await openWithSecondConnection(backend);
      cleanup = opened.cleanup;
      const a = make(opened.store, { budgetUsdPerPersonPerDay: 1 });
      const waiting: string[] = [];
      a.on("waiting", (task) => waiting.push(task.id));
      await a.start();
      await finalStatus(a, (await a.enqueueTask({ type: "costly", title: "spends it", costUsd: 1.2, source: fromApi("alice") })).task.id);
      const held = await a.enqueueTask({ type: "costly", title: "held", costUsd: 0.1, source: fromApi("alice") });
      await waitFor(() => waiting.includes(held.task.id) || undefined, 10_000, "alice's task to wait");
      await a.stop(0);
      // Started again with $5 a person: her task runs now, capped at the $3.80 left.
      const b = make(opened.other, { budgetUsdPerPersonPerDay: 5 });
      await b.start();
      const ran = await finalStatus(b, held.task.id);
      expect(ran).toMatchObject({ status: "completed", attempts: 1 });
      expect(capOf(ran)).toMatchObject({ cap: expect.closeTo(3.8, 6), capFrom: "person" });
    });

    it("tells webhooks once that alice's budget is spent and once that it has room again, however many of her tasks either worker holds", async () => {
      const opened = await openWithReceiver(backend, "person-alerts", ["budget.person_spent", "budget.person_available"]);
      const { receiver } = opened;
      cleanup = opened.cleanup;
      const a = make(opened.store, { budgetUsdPerPersonPerDay: 1 });
      const b = make(opened.other, { budgetUsdPerPersonPerDay: 1 });
      const waiting: string[] = [];
      for (const m of [a, b]) m.on("waiting", (task) => waiting.push(task.id));
      await a.start();
      await b.start();
      await finalStatus(a, (await a.enqueueTask({ type: "costly", title: "spends it", costUsd: 1.2, source: fromApi("alice") })).task.id);
      const held: string[] = [];
      for (const m of [a, b, a]) held.push((await m.enqueueTask({ type: "costly", title: "held", costUsd: 0.1, source: fromApi("alice") })).task.id);
      await waitFor(() => held.every((id) => waiting.includes(id)) || undefined, 10_000, "the three tasks to wait");
      await waitFor(() => receiver.received.length >= 1 || undefined, 10_000, "the budget.person_spent delivery");
      const spent = receiver.received[0]?.json as unknown as { event: string; budget: Record<string, unknown> };
      expect(spent).toMatchObject({ event: "budget.person_spent", budget: { person: "alice", budgetUsd: 1, spentUsd: 1.2, setting: "TASK_BUDGET_USD_PER_PERSON_PER_DAY", windowHours: 24 } });

      await opened.store.db.query("UPDATE ph_run_costs SET recorded_at = recorded_at - interval '25 hours'");
      await opened.store.db.query("UPDATE ph_tasks SET run_at = now() WHERE id = ANY($1)", [held]);
      for (const id of held) expect((await finalStatus(a, id)).status).toBe("completed");
      await waitFor(() => receiver.received.length >= 2 || undefined, 10_000, "the budget.person_available delivery");
      expect(receiver.received[1]?.json).toMatchObject({ event: "budget.person_available", budget: { person: "alice", budgetUsd: 1 } });
      await sleep(1000);
      expect(receiver.received.map((r) => r.json.event)).toEqual(["budget.person_spent", "budget.person_available"]);
    }, 60_000);

    it("refuses a bad name or amount naming the field and the value, and stores nothing", async () => {
      const opened = await openWithSecondConnection(backend);
      cleanup = opened.cleanup;
      const service = new HolderBudgetService(new SpendStore(opened.store.db), make(opened.store, {}).budgets.people, silentLogger());
      for (const [person, input, field] of [["bad name", { usdPerDay: 1 }, "person"], ["-dash", { usdPerDay: 1 }, "person"], ["alice", { usdPerDay: -1 }, "usdPerDay"], ["alice", { usdPerDay: 1, extra: true }, "(root)"]] as const) {
        const error = await service.set(person, input, "bob").then(() => undefined, (e: unknown) => e);
        expect(error, `${person} ${JSON.stringify(input)}`).toMatchObject({ errors: expect.arrayContaining([expect.objectContaining({ field })]) });
      }
      expect((await service.list()).entries).toEqual([]);
    });
  });
}
