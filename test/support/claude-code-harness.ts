/**
 * A Claude Code executor on the real claude binary against a Messages-API stand-in, and one attempt
 * of a task through it (executeAttempt), with its progress, result and the API requests it made.
 */
import path from "node:path";
import { silentLogger } from "../../src/logger.js";
import { ClaudeCodeExecutor, type ClaudeCodeExecutorOptions } from "../../src/tasks/executors/claude-code-executor.js";
import { ExecutorRegistry } from "../../src/tasks/executors/registry.js";
import { executeAttempt } from "../../src/tasks/execute-attempt.js";
import { newTask } from "../../src/tasks/new-task.js";
import { parseTaskRequest } from "../../src/tasks/task-request.js";
import type { ProgressEvent } from "../../src/tasks/types.js";
import type { StandIn } from "./anthropic-stand-in.js";

export function claudeCodeHarness(standIn: () => StandIn, root: string) {
  const executor = (overrides: Partial<ClaudeCodeExecutorOptions> = {}) =>
    new ClaudeCodeExecutor({
      credentials: { apiKey: "sk-ant-test-key", baseUrl: standIn().url },
      defaultModel: "claude-sonnet-4-5",
      allowedRoots: [root],
      homesDir: path.join(root, ".homes"),
      killGraceMs: 500,
      captureBytes: 256 * 1024,
      requestsPerMinute: 1000,
      ...overrides,
    });

  async function run(fields: Record<string, unknown>, options: { exec?: ClaudeCodeExecutor; timeoutMs?: number; signal?: AbortSignal; spendCapUsd?: number; spendCapFrom?: "daily" | "drive"; spendCapSetting?: string } = {}) {
    const exec = options.exec ?? executor();
    const registry = new ExecutorRegistry().register(exec);
    const request = parseTaskRequest({ type: "claude-code", title: "Claude test", ...fields }, registry);
    if (!request.ok) throw new Error(JSON.stringify(request.errors));
    const task = newTask(request.value, exec, { maxAttempts: 1, timeoutMs: options.timeoutMs ?? 60_000 });
    const progress: ProgressEvent[] = [];
    const before = standIn().requests.length;
    const outcome = await executeAttempt(exec, task, {
      timeoutMs: task.timeoutMs,
      attempt: 1,
      logger: silentLogger(),
      onProgress: (p) => progress.push(p),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.spendCapUsd !== undefined ? { spendCap: { usd: options.spendCapUsd, from: options.spendCapFrom ?? "daily", ...(options.spendCapSetting ? { setting: options.spendCapSetting } : {}) } } : {}),
    });
    return { outcome, progress, result: (outcome.result ?? {}) as Record<string, unknown>, requests: standIn().requests.slice(before) };
  }

  return { executor, run };
}
