/**
 * The executors the agent ships, registered from the configuration. Embedders add their own with
 * registry.register(...).
 */
import type { Config } from "../../config.js";
import { CliExecutor } from "./cli-executor.js";
import { ExecutorRegistry } from "./registry.js";

export function createDefaultRegistry(config: Config): ExecutorRegistry {
  const registry = new ExecutorRegistry();
  registry.register(
    new CliExecutor({
      allowedRoots: config.allowedRoots,
      commandAllowlist: config.TASK_COMMAND_ALLOWLIST,
      killGraceMs: config.TASK_KILL_GRACE_MS,
      captureBytes: config.TASK_OUTPUT_CAP_BYTES,
    }),
  );
  return registry;
}

export { ExecutorRegistry } from "./registry.js";
export * from "./executor.js";
