/**
 * For a describe block over one backend: before each test the store and a second worker's own
 * connection to it (openWithSecondConnection), and `make(on)` for managers with the scripted
 * executor, all stopped and closed after the test. Read the fields inside the tests.
 */
import { afterEach, beforeEach } from "vitest";
import type { TaskStore } from "../../src/store/task-store.js";
import type { ManagerSettings } from "../../src/tasks/manager-settings.js";
import type { TaskManager } from "../../src/tasks/task-manager.js";
import { cliRegistry, testManager } from "./manager.js";
import { scriptedExecutor, type RunLog } from "./scripted-executor.js";
import { openWithSecondConnection, type Backend } from "./stores.js";

export function twoWorkersPerTest(backend: Backend, settings: Partial<ManagerSettings>) {
  const managers: TaskManager[] = [];
  let cleanup: () => Promise<void> = () => Promise.resolve();
  const ctx = {
    store: undefined as unknown as TaskStore,
    /** A second connection to the same database (PostgreSQL); on PGlite the same store. */
    other: undefined as unknown as TaskStore,
    /** Every run of the scripted executor, this test's. */
    log: [] as RunLog,
    make: (on: TaskStore): TaskManager => {
      const manager = testManager(on, settings, cliRegistry("/tmp").register(scriptedExecutor(ctx.log)));
      managers.push(manager);
      return manager;
    },
  };
  beforeEach(async () => {
    ctx.log.length = 0;
    ({ store: ctx.store, other: ctx.other, cleanup } = await openWithSecondConnection(backend));
  });
  afterEach(async () => {
    for (const m of managers.splice(0)) await m.stop(0);
    await cleanup();
  });
  return ctx;
}
