/**
 * What keeping conversations for follow-ups costs: a Claude Code run through the executor on the
 * stand-in without a store to keep it in, the same run keeping its conversation (PGlite), and a
 * follow-up (the earlier conversation put back, resumed, the new one kept) — sequential runs,
 * median wall time; then how big a kept conversation is, as claude wrote it and as stored, along a
 * chain of follow-ups; and what saving and loading one costs on PGlite and on PostgreSQL.
 * Run alone: `npx tsx bench/follow-up-cost.ts`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { silentLogger } from "../src/logger.js";
import { ConversationStore, type Conversation } from "../src/store/conversation-store.js";
import type { TaskStore } from "../src/store/task-store.js";
import { ClaudeCodeExecutor } from "../src/tasks/executors/claude-code-executor.js";
import { locateClaudeBinary } from "../src/tasks/executors/claude/locate-claude-binary.js";
import { ExecutorRegistry } from "../src/tasks/executors/registry.js";
import { executeAttempt } from "../src/tasks/execute-attempt.js";
import { newTask } from "../src/tasks/new-task.js";
import { parseTaskRequest } from "../src/tasks/task-request.js";
import { startStandIn } from "../test/support/anthropic-stand-in.js";
import { fmt, median, medianMs, postgresProblem, table, withPgliteStore, withPostgresStore } from "./support.js";

const RUNS = Number(process.env.BENCH_CLAUDE_RUNS ?? 5);
const CHAIN = 5;

export async function benchFollowUpCost(): Promise<string> {
  const binary = locateClaudeBinary(process.env.CLAUDE_CLI_PATH);
  if (!binary) return "### Follow-ups\n\nnot measured: the claude binary was not found.";
  const standIn = await startStandIn({ fallback: { kind: "text", text: "Hello, noted." } });
  const root = mkdtempSync(path.join(tmpdir(), "ph-bench-follow-up-"));
  try {
    const executor = new ClaudeCodeExecutor({ credentials: { apiKey: "sk-bench", baseUrl: standIn.url }, defaultModel: "claude-sonnet-4-5", allowedRoots: [root], homesDir: path.join(root, "homes"), killGraceMs: 1000, captureBytes: 1024 * 1024, requestsPerMinute: 10_000 });
    const registry = new ExecutorRegistry().register(executor);
    return await withPgliteStore(async (store) => {
      const conversations = new ConversationStore(store.db);
      /** One run; `keep`: stored and kept; `from`: a follow-up of that task. Its wall time and id. */
      const run = async (keep: boolean, from?: string): Promise<{ ms: number; id: string }> => {
        const parsed = parseTaskRequest({ type: "claude-code", title: "bench", prompt: "Say hello", ...(from ? { continueFrom: from } : {}) }, registry);
        if (!parsed.ok) throw new Error("bad request");
        const task = newTask(parsed.value, executor, { maxAttempts: 1, timeoutMs: 120_000 });
        if (keep) await store.insert([task], 60_000);
        const start = performance.now();
        const outcome = await executeAttempt(executor, task, { timeoutMs: 120_000, attempt: 1, logger: silentLogger(), ...(keep ? { conversations } : {}) });
        if (outcome.status !== "completed") throw new Error(`run failed: ${JSON.stringify(outcome)}`);
        return { ms: performance.now() - start, id: task.id };
      };
      const plain: number[] = [];
      const kept: number[] = [];
      const followed: number[] = [];
      const origin = (await run(true)).id; // also warms the page cache
      for (let i = 0; i < RUNS; i++) {
        plain.push((await run(false)).ms);
        kept.push((await run(true)).ms);
        followed.push((await run(true, origin)).ms);
      }
      // A chain: each follow-up continues the one before; the kept conversation grows per turn.
      const sizes: (string | number)[][] = [];
      let last = origin;
      let conversation: Conversation | undefined;
      for (let turn = 1; turn <= CHAIN; turn++) {
        if (turn > 1) last = (await run(true, last)).id;
        conversation = await conversations.load(last);
        if (!conversation) throw new Error("no conversation kept");
        sizes.push([String(turn), fmt(conversation.transcript.length / 1024), fmt(gzipSync(conversation.transcript).length / 1024)]);
      }
      const saveLoad = [["PGlite", ...(await saveAndLoad(store, conversation!, registry))]];
      const pgProblem = await postgresProblem();
      saveLoad.push(pgProblem ? ["PostgreSQL", `not measured: ${pgProblem}`, "", ""] : ["PostgreSQL", ...(await withPostgresStore((pgStore) => saveAndLoad(pgStore, conversation!, registry)))]);
      const p = median(plain);
      return [
        `### Follow-ups: what keeping conversations costs (Claude Code on the stand-in, ${RUNS} runs each, median)`,
        "",
        table(["run", "median wall time (ms)", "min", "max", "vs not kept"], [
          ["conversation not kept (no store)", fmt(p), fmt(Math.min(...plain)), fmt(Math.max(...plain)), "1.00"],
          ["conversation kept", fmt(median(kept)), fmt(Math.min(...kept)), fmt(Math.max(...kept)), fmt(median(kept) / p, 2)],
          ["a follow-up (put back, resumed, kept)", fmt(median(followed)), fmt(Math.min(...followed)), fmt(Math.max(...followed)), fmt(median(followed) / p, 2)],
        ]),
        "",
        `A kept conversation along a chain of follow-ups (one short turn each):`,
        "",
        table(["turns", "as claude wrote it (KiB)", "stored, gzip (KiB)"], sizes),
        "",
        `Saving and loading the ${CHAIN}-turn conversation (median of 20):`,
        "",
        table(["store", "save (ms)", "load (ms)"], saveLoad),
      ].join("\n");
    });
  } finally {
    await standIn.close();
    rmSync(root, { recursive: true, force: true });
  }
}

/** Median save and load times of a conversation, kept for a task of its own in `store`. */
async function saveAndLoad(store: TaskStore, conversation: Conversation, registry: ExecutorRegistry): Promise<[string, string]> {
  const conversations = new ConversationStore(store.db);
  const parsed = parseTaskRequest({ type: "claude-code", title: "bench", prompt: "p" }, registry);
  if (!parsed.ok) throw new Error("bad request");
  const task = newTask(parsed.value, registry.get("claude-code")!, { maxAttempts: 1, timeoutMs: 1000 });
  await store.insert([task], 60_000);
  let attempt = 0;
  const save = await medianMs(() => conversations.save(task.id, ++attempt, conversation), 20);
  const load = await medianMs(() => conversations.load(task.id), 20);
  return [fmt(save, 1), fmt(load, 1)];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(await benchFollowUpCost());
  process.exit(0);
}
