/**
 * A Claude Code task through the framework (validation, prompt template, per-run home, stream
 * parsing, the attempt wrapper) vs a bare `claude -p` on the same stand-in, sequential runs in
 * one process, median wall time. Run alone: `npx tsx bench/claude-code.ts`.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { silentLogger } from "../src/logger.js";
import { ClaudeCodeExecutor } from "../src/tasks/executors/claude-code-executor.js";
import { locateClaudeBinary } from "../src/tasks/executors/claude/locate-claude-binary.js";
import { ExecutorRegistry } from "../src/tasks/executors/registry.js";
import { executeAttempt } from "../src/tasks/execute-attempt.js";
import { newTask } from "../src/tasks/new-task.js";
import { parseTaskRequest } from "../src/tasks/task-request.js";
import { startStandIn } from "../test/support/anthropic-stand-in.js";
import { fmt, median, table } from "./support.js";

const RUNS = Number(process.env.BENCH_CLAUDE_RUNS ?? 5);

function bareRun(binary: string, env: Record<string, string>, cwd: string): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ["-p", "--output-format", "stream-json", "--verbose", "--model", "claude-sonnet-4-5"], { env, cwd, stdio: ["pipe", "pipe", "pipe"] });
    child.stdout.resume();
    child.stderr.resume();
    child.stdin.end("Say hello");
    child.on("error", reject);
    child.on("close", () => resolve(performance.now() - start));
  });
}

export async function benchClaudeCode(): Promise<string> {
  const binary = locateClaudeBinary(process.env.CLAUDE_CLI_PATH);
  if (!binary) return "### Claude Code overhead\n\nnot measured: the claude binary was not found.";
  const standIn = await startStandIn({ fallback: { kind: "text", text: "Hello." } });
  const root = mkdtempSync(path.join(tmpdir(), "ph-bench-claude-"));
  try {
    const executor = new ClaudeCodeExecutor({
      credentials: { apiKey: "sk-bench", baseUrl: standIn.url },
      defaultModel: "claude-sonnet-4-5",
      allowedRoots: [root],
      homesDir: path.join(root, "homes"),
      killGraceMs: 1000,
      captureBytes: 1024 * 1024,
      requestsPerMinute: 10_000,
    });
    const registry = new ExecutorRegistry().register(executor);
    const framework: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      // Alternate which goes first, so neither always gets the warmer page cache.
      const runFramework = async () => {
        const parsed = parseTaskRequest({ type: "claude-code", title: "bench", prompt: "Say hello" }, registry);
        if (!parsed.ok) throw new Error("bad request");
        const task = newTask(parsed.value, executor, { maxAttempts: 1, timeoutMs: 120_000 });
        const start = performance.now();
        const outcome = await executeAttempt(executor, task, { timeoutMs: 120_000, attempt: 1, logger: silentLogger() });
        if (outcome.status !== "completed") throw new Error(`framework run failed: ${JSON.stringify(outcome)}`);
        framework.push(performance.now() - start);
      };
      const runBare = async () => {
        const home = mkdtempSync(path.join(root, "bare-"));
        const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, CLAUDE_CONFIG_DIR: path.join(home, ".claude"), ANTHROPIC_API_KEY: "sk-bench", ANTHROPIC_BASE_URL: standIn.url, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1", DISABLE_AUTOUPDATER: "1", CLAUDE_CODE_MAX_RETRIES: "1", ENABLE_TOOL_SEARCH: "false" };
        bare.push(await bareRun(binary, env, root));
        rmSync(home, { recursive: true, force: true });
      };
      if (i % 2 === 0) {
        await runFramework();
        await runBare();
      } else {
        await runBare();
        await runFramework();
      }
    }
    const f = median(framework);
    const b = median(bare);
    return [
      `### Claude Code task through the framework vs a bare \`claude -p\` (same stand-in, ${RUNS} runs each, median)`,
      "",
      // min and max show the spread: one claude start is ~1.5 s of CPU on a 2-core machine, so single runs vary.
      table(["run", "median wall time (ms)", "min", "max", "ratio (medians)"], [
        ["bare `claude -p`", fmt(b), fmt(Math.min(...bare)), fmt(Math.max(...bare)), "1.00"],
        ["through the framework", fmt(f), fmt(Math.min(...framework)), fmt(Math.max(...framework)), fmt(f / b, 2)],
      ]),
    ].join("\n");
  } finally {
    await standIn.close();
    rmSync(root, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(await benchClaudeCode());
  process.exit(0);
}
