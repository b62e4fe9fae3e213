/**
 * A claim sent before a drain (or a pause) lands, and answered after it, must not start what it
 * claimed: "a drained worker claims nothing more" is what the operator checks. Found by CI: on a
 * loaded machine a claim sent at start-up was answered after the drain applied, and a task enqueued
 * after the drain ran. Here the claim is held back on purpose — sent, then made to wait until the
 * drain (or the pause) has applied and a task is waiting — and the task must go back to the queue,
 * unstarted, and run once the worker claims again. Likewise a cancel asked while a claim's answer is
 * on its way: the task ends cancelled without starting (it used to start, and be stopped at the
 * next lease renewal).
 */
import { randomBytes } from "node:crypto";
import { existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { PauseStore } from "../src/store/pause-store.js";
import type { TaskStore } from "../src/store/task-store.js";
import { WorkerStore } from "../src/store/worker-store.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import { cliRegistry, testManager } from "./support/manager.js";
import { waitFor } from "./support/process.js";
import { BACKENDS } from "./support/stores.js";

/**
 * Holds one of the store's round trips until `open()`; `held` resolves once it waits. "claim": the
 * next one that asks for tasks, before it reaches the store (sent while the worker still claimed).
 * "answer": the next one that claimed tasks, after they are claimed in the store, before the worker
 * hears of them.
 */
function holdNext(store: TaskStore, what: "claim" | "answer") {
  const original = store.finishAndClaim.bind(store);
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let waiting!: () => void;
  const held = new Promise<void>((resolve) => (waiting = resolve));
  const hold = async () => {
    store.finishAndClaim = original; // only this one
    waiting();
    await gate;
  };
  store.finishAndClaim = async (...args: Parameters<TaskStore["finishAndClaim"]>) => {
    if (what === "claim" && args[2] && args[2].count > 0) await hold();
    const answer = await original(...args);
    if (what === "answer" && answer.claimed.length > 0) await hold();
    return answer;
  };
  return { held, open };
}

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`a claim answered after a drain or a pause, on ${backend.name}`, () => {
    let manager: TaskManager | undefined;
    let cleanup: (() => Promise<void>) | undefined;
    afterEach(async () => {
      await manager?.stop(0);
      await cleanup?.();
      manager = undefined;
      cleanup = undefined;
    });

    async function started() {
      const opened = await backend.open();
      cleanup = opened.cleanup;
      // A heartbeat a minute apart: nothing but the announcements applies the drain and the pause.
      manager = testManager(opened.store, { heartbeatMs: 60_000 }, cliRegistry("/tmp"));
      const returned: string[] = [];
      manager.on("queued", (task) => returned.push(task.id));
      await manager.start();
      return { store: opened.store, manager, returned };
    }

    it("a drained worker starts nothing its earlier claim brings back; resumed, it runs it", async () => {
      const { store, manager, returned } = await started();
      const claim = holdNext(store, "claim");
      const { task } = await manager.enqueueTask({ type: "cli", title: "enqueued as the drain lands", command: "true" });
      await claim.held; // the claim for it is out, sent while the worker still claimed
      const workers = new WorkerStore(store.db);
      expect(await workers.setDrain(manager.workerId, "maintenance")).toBe(true);
      await waitFor(() => (manager.claimableTypes().length === 0 ? true : undefined), 5000, "the drain to apply");
      claim.open();
      await waitFor(() => (returned.includes(task.id) ? true : undefined), 5000, "the claimed task to go back to the queue");
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await manager.getTask(task.id)).toMatchObject({ status: "pending", attempts: 0 });
      expect(await workers.setDrain(manager.workerId, undefined)).toBe(true);
      await waitFor(async () => ((await manager.getTask(task.id))?.status === "completed" ? true : undefined), 5000, "the task to run once resumed");
    });

    it("a task cancelled while its claim's answer is on its way ends cancelled without starting", async () => {
      const { store, manager } = await started();
      const marker = path.join(tmpdir(), `ph-claim-cancel-${randomBytes(4).toString("hex")}`);
      const answer = holdNext(store, "answer");
      const { task } = await manager.enqueueTask({ type: "cli", title: "cancelled in flight", command: "touch", args: [marker] });
      await answer.held; // claimed in the store (running there), not yet held by the worker
      expect(await manager.cancelTask(task.id)).toBe(true);
      answer.open();
      await waitFor(async () => ((await manager.getTask(task.id))?.status === "cancelled" ? true : undefined), 5000, "the task to end cancelled");
      expect((await manager.getTask(task.id))?.error?.message).toContain("before it started");
      expect(existsSync(marker)).toBe(false); // the command never ran
      // Retried, the same task runs: the old cancel is not held against the new run.
      expect(await manager.retryTask(task.id)).toBeDefined();
      await waitFor(async () => ((await manager.getTask(task.id))?.status === "completed" ? true : undefined), 5000, "the retried task to run");
      expect(existsSync(marker)).toBe(true);
      rmSync(marker, { force: true });
    });

    it("a task of a type paused while its claim was out goes back; resumed, it runs", async () => {
      const { store, manager, returned } = await started();
      const claim = holdNext(store, "claim");
      const { task } = await manager.enqueueTask({ type: "cli", title: "enqueued as the pause lands", command: "true" });
      await claim.held;
      const pauses = new PauseStore(store.db);
      await pauses.pause(["cli"], "hold it");
      await waitFor(() => (manager.claimableTypes().length === 0 ? true : undefined), 5000, "the pause to apply");
      claim.open();
      await waitFor(() => (returned.includes(task.id) ? true : undefined), 5000, "the claimed task to go back to the queue");
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await manager.getTask(task.id)).toMatchObject({ status: "pending", attempts: 0 });
      await pauses.resume();
      await waitFor(async () => ((await manager.getTask(task.id))?.status === "completed" ? true : undefined), 5000, "the task to run once resumed");
    });
  });
}
