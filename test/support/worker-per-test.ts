/**
 * For a describe block over one backend: before each test a fresh store and a started manager over
 * it (CLI tasks in `dir`, or the registry given); stopped and closed after. Read the fields inside
 * the tests.
 */
import { afterEach, beforeEach } from "vitest";
import type { TaskStore } from "../../src/store/task-store.js";
import type { ExecutorRegistry } from "../../src/tasks/executors/registry.js";
import type { ManagerSettings } from "../../src/tasks/manager-settings.js";
import type { TaskManager } from "../../src/tasks/task-manager.js";
import { cliRegistry, testManager } from "./manager.js";
import type { Backend } from "./stores.js";

export function workerPerTest(backend: Backend, settings: Partial<ManagerSettings>, registry: (() => ExecutorRegistry) | string) {
  const ctx = { store: undefined as unknown as TaskStore, manager: undefined as unknown as TaskManager };
  let cleanup: () => Promise<void> = () => Promise.resolve();
  beforeEach(async () => {
    ({ store: ctx.store, cleanup } = await backend.open());
    ctx.manager = testManager(ctx.store, settings, typeof registry === "string" ? cliRegistry(registry) : registry());
    await ctx.manager.start();
  });
  afterEach(async () => {
    await ctx.manager.stop(0);
    await cleanup();
  });
  return ctx;
}
