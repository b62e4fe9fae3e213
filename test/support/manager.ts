import { silentLogger } from "../../src/logger.js";
import { TaskMetrics } from "../../src/metrics.js";
import type { TaskStore } from "../../src/store/task-store.js";
import { CliExecutor } from "../../src/tasks/executors/cli-executor.js";
import { ExecutorRegistry } from "../../src/tasks/executors/registry.js";
import type { ManagerSettings } from "../../src/tasks/manager-settings.js";
import { TaskManager } from "../../src/tasks/task-manager.js";

export function testSettings(overrides: Partial<ManagerSettings> = {}): ManagerSettings {
  return {
    workerId: `test-${process.pid}-${Math.random().toString(36).slice(2, 7)}`,
    maxConcurrent: 5,
    maxPerDocument: 1,
    maxPerDrive: 3,
    typeConcurrency: {},
    retry: { baseMs: 100, maxMs: 2000 },
    defaultMaxAttempts: 3,
    defaultTimeoutMs: 30_000,
    agingMs: 60_000,
    leaseMs: 5000,
    heartbeatMs: 200,
    pollIntervalMs: 5000,
    cleanupIntervalMs: 3_600_000,
    resultTtlMs: 7 * 86_400_000,
    outputCapBytes: 1024 * 1024,
    shutdownGraceMs: 2000,
    vacuumEveryFinishes: 2000,
    ...overrides,
  };
}

export function cliRegistry(root = process.cwd()): ExecutorRegistry {
  return new ExecutorRegistry().register(new CliExecutor({ allowedRoots: [root, "/tmp"], killGraceMs: 300, captureBytes: 256 * 1024 }));
}

export function testManager(store: TaskStore, overrides: Partial<ManagerSettings> = {}, registry = cliRegistry()): TaskManager {
  return new TaskManager(store, registry, testSettings(overrides), silentLogger(), new TaskMetrics({ store, types: registry.types() }));
}
