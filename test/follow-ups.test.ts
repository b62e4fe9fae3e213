/**
 * Follow-ups: a Claude Code task that continues an earlier task's conversation (continueFrom), on
 * the real claude binary against the Messages-API stand-in, through a task manager on PGlite and
 * on PostgreSQL. What a user checks: the model is sent the earlier conversation with the new
 * prompt; the follow-up works in the earlier task's project; the earlier conversation stays as it
 * was for other follow-ups; a follow-up that cannot be is refused naming continueFrom; the kept
 * conversation goes with its task.
 */
import { mkdirSync, mkdtempSync, realpathSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ConversationStore, MAX_KEPT_CONVERSATION_BYTES } from "../src/store/conversation-store.js";
import { SpendStore } from "../src/store/spend-store.js";
import { PipelineStore } from "../src/store/pipeline-store.js";
import { PipelineService } from "../src/pipelines/pipeline-service.js";
import { ExecutorRegistry } from "../src/tasks/executors/registry.js";
import { CliExecutor } from "../src/tasks/executors/cli-executor.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import type { Task } from "../src/tasks/types.js";
import { ValidationError } from "../src/validation.js";
import { startStandIn, type LoggedRequest, type StandIn } from "./support/anthropic-stand-in.js";
import { claudeCodeHarness } from "./support/claude-code-harness.js";
import { testManager } from "./support/manager.js";
import { waitFor } from "./support/process.js";
import { BACKENDS, storePerTest } from "./support/stores.js";

const root = realpathSync(mkdtempSync(path.join(tmpdir(), "ph-follow-ups-")));
const project = path.join(root, "project");
mkdirSync(project);

/** Everything the model was sent in a request's messages, as one string. */
const sent = (request: LoggedRequest | undefined) => JSON.stringify(request?.body.messages ?? []);

async function ended(manager: TaskManager, id: string): Promise<Task & { result?: unknown }> {
  return waitFor(async () => {
    const task = await manager.getTask(id);
    return task && ["completed", "failed", "cancelled"].includes(task.status) ? task : undefined;
  }, 60_000, `task ${id} to end`);
}

/** The ValidationError's problems a promise rejects with. */
async function refusal(promise: Promise<unknown>): Promise<{ field: string; message: string; value?: string }[]> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  if (!(error instanceof ValidationError)) throw new Error(`expected a ValidationError, got ${String(error)}`);
  return error.errors;
}

let standIn: StandIn;
beforeAll(async () => {
  standIn = await startStandIn();
});
afterAll(() => standIn.close());
beforeEach(() => standIn.reset());

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`follow-ups on ${backend.name}`, () => {
    const open = storePerTest(backend);
    const { executor } = claudeCodeHarness(() => standIn, root);
    const registry = () => new ExecutorRegistry().register(executor()).register(new CliExecutor({ allowedRoots: [root], killGraceMs: 300, captureBytes: 64 * 1024 }));

    async function withManager<T>(fn: (manager: TaskManager) => Promise<T>): Promise<T> {
      const { store } = await open();
      const manager = testManager(store, {}, registry());
      await manager.start();
      try {
        return await fn(manager);
      } finally {
        await manager.stop(0);
      }
    }

    it("continues the earlier conversation in the earlier task's project, and leaves that conversation as it was for other follow-ups", async () => {
      await withManager(async (manager) => {
        standIn.enqueue({ kind: "text", text: "Noted: the codeword is BANANA-42." });
        const first = await manager.enqueueTask({ type: "claude-code", title: "remember", prompt: "Remember the codeword BANANA-42.", projectPath: project });
        const firstEnd = await ended(manager, first.task.id);
        expect(firstEnd.status).toBe("completed");
        expect(firstEnd.result).toMatchObject({ conversationKept: true });

        standIn.enqueue({ kind: "text", text: "It was BANANA-42." });
        const before = standIn.requests.length;
        const follow = await manager.enqueueTask({ type: "claude-code", title: "ask", prompt: "Which codeword did I give you?", continueFrom: first.task.id });
        expect(follow.task.projectPath).toBe(project); // the earlier task's project, none being named
        const followEnd = await ended(manager, follow.task.id);
        expect(followEnd.status).toBe("completed");
        const [request] = standIn.requests.slice(before);
        expect(sent(request)).toContain("Remember the codeword BANANA-42.");
        expect(sent(request)).toContain("Noted: the codeword is BANANA-42.");
        expect(sent(request)).toContain("Which codeword did I give you?");
        const firstResult = firstEnd.result as { sessionId: string };
        const followResult = followEnd.result as { sessionId: string; text: string; conversationKept: boolean };
        expect(followResult).toMatchObject({ text: "It was BANANA-42.", conversationKept: true });
        expect(followResult.sessionId).not.toBe(firstResult.sessionId); // a session of its own

        // Another follow-up of the first task: it sees the first conversation, not the other branch.
        standIn.enqueue({ kind: "text", text: "branch" });
        const again = standIn.requests.length;
        const branch = await manager.enqueueTask({ type: "claude-code", title: "branch", prompt: "Say branch.", continueFrom: first.task.id });
        expect((await ended(manager, branch.task.id)).status).toBe("completed");
        const [branchRequest] = standIn.requests.slice(again);
        expect(sent(branchRequest)).toContain("Remember the codeword BANANA-42.");
        expect(sent(branchRequest)).not.toContain("Which codeword did I give you?");

        // A follow-up of the follow-up carries the whole chain.
        standIn.enqueue({ kind: "text", text: "chain" });
        const third = standIn.requests.length;
        const chained = await manager.enqueueTask({ type: "claude-code", title: "chain", prompt: "And now?", continueFrom: follow.task.id });
        expect((await ended(manager, chained.task.id)).status).toBe("completed");
        const chainText = sent(standIn.requests[third]);
        for (const part of ["Remember the codeword BANANA-42.", "Which codeword did I give you?", "It was BANANA-42.", "And now?"]) expect(chainText).toContain(part);
      });
    });

    it("refuses, naming continueFrom, a follow-up of no task, of another type, of another drive's task, or of a task not ended", async () => {
      await withManager(async (manager) => {
        const missing = "00000000-0000-4000-8000-000000000000";
        expect(await refusal(manager.enqueueTask({ type: "claude-code", title: "f", prompt: "p", continueFrom: missing }))).toEqual([
          { field: "continueFrom", value: JSON.stringify(missing), message: `names no task: '${missing}'` },
        ]);
        const cli = await manager.enqueueTask({ type: "cli", title: "c", command: "true", workingDirectory: root });
        await ended(manager, cli.task.id);
        expect(await refusal(manager.enqueueTask({ type: "claude-code", title: "f", prompt: "p", continueFrom: cli.task.id }))).toEqual([
          expect.objectContaining({ field: "continueFrom", message: "names a cli task: a claude-code task continues only a claude-code task's conversation" }),
        ]);

        standIn.enqueue({ kind: "text", text: "done in drive A" });
        const inA = await manager.enqueueTask({ type: "claude-code", title: "a", prompt: "p", projectPath: project, source: { driveId: "drive-a", documentId: "doc-a", origin: "document" } });
        expect((await ended(manager, inA.task.id)).status).toBe("completed");
        expect(await refusal(manager.enqueueTask({ type: "claude-code", title: "f", prompt: "p", continueFrom: inA.task.id, source: { driveId: "drive-b", documentId: "doc-b", origin: "document" } }))).toEqual([
          expect.objectContaining({ field: "continueFrom", message: "names a task that did not come from this drive ('drive-b'): a task asked for in a drive continues only conversations begun in that drive" }),
        ]);
        // From its own drive, or through the API (whose tasks' documents sit in the agent's local drives), it may.
        standIn.enqueue({ kind: "text", text: "a again" }, { kind: "text", text: "api" });
        const sameDrive = await manager.enqueueTask({ type: "claude-code", title: "f", prompt: "p", continueFrom: inA.task.id, source: { driveId: "drive-a", documentId: "doc-a2", origin: "document" } });
        const fromApi = await manager.enqueueTask({ type: "claude-code", title: "f", prompt: "p", continueFrom: inA.task.id, source: { driveId: "local-2", documentId: "doc-l", origin: "api" } });
        expect((await ended(manager, sameDrive.task.id)).status).toBe("completed");
        expect((await ended(manager, fromApi.task.id)).status).toBe("completed");

        // Not ended: refused, unless the follow-up waits for it.
        standIn.enqueue({ kind: "hang" });
        const slow = await manager.enqueueTask({ type: "claude-code", title: "slow", prompt: "take your time", projectPath: project });
        expect(await refusal(manager.enqueueTask({ type: "claude-code", title: "f", prompt: "p", continueFrom: slow.task.id }))).toEqual([
          expect.objectContaining({ field: "continueFrom", message: expect.stringMatching(/^names a task still (pending|running): a conversation can be continued once its task has ended — or name it in dependsOn too/) }),
        ]);
        const waiting = await manager.enqueueTask({ type: "claude-code", title: "f", prompt: "p", continueFrom: slow.task.id, dependsOn: [slow.task.id], onDependencyFailure: "cancel" });
        expect(waiting.created).toBe(true);
        await manager.cancelTask(slow.task.id);
        // The follow-up waited for it, and goes with it (onDependencyFailure: cancel).
        expect((await ended(manager, waiting.task.id)).status).toBe("cancelled");
      });
    });

    it("a pipeline step continues the conversation of a step it waits for, named by that step's name", async () => {
      await withManager(async (manager) => {
        const pipelines = new PipelineService(new PipelineStore(manager.store.db), manager, (inputs, { origin, ...rest }) => manager.enqueueTasks(inputs.map((input) => ({ ...(input as object), source: { origin } })), rest));
        const plan = { name: "plan", task: { type: "claude-code", title: "plan", prompt: "Plan the dark mode.", projectPath: project } };
        standIn.enqueue({ kind: "text", text: "Plan: a toggle in the header." }, { kind: "text", text: "Implemented the toggle." });
        const before = standIn.requests.length;
        const { pipeline } = await pipelines.create({ title: "plan, then do", steps: [plan, { name: "do", after: ["plan"], task: { type: "claude-code", title: "do", prompt: "Now implement it.", continueFrom: "plan" } }] });
        const [planStep, doStep] = pipeline.steps;
        const done = await ended(manager, doStep!.taskId);
        expect(done.status).toBe("completed");
        expect(done).toMatchObject({ continueFrom: planStep!.taskId, projectPath: project });
        const sent = JSON.stringify(standIn.requests[before + 1]?.body.messages);
        for (const part of ["Plan the dark mode.", "Plan: a toggle in the header.", "Now implement it."]) expect(sent).toContain(part);

        // A step it does not wait for, or one of another type: refused, naming the field.
        const refused = await refusal(pipelines.create({ title: "bad", steps: [
          plan,
          { name: "echo", task: { type: "cli", title: "echo", command: "true", workingDirectory: root } },
          { name: "loose", task: { type: "claude-code", title: "loose", prompt: "p", continueFrom: "plan" } },
          { name: "mixed", after: ["echo"], task: { type: "claude-code", title: "mixed", prompt: "p", continueFrom: "echo" } },
        ] }));
        expect(refused).toEqual(expect.arrayContaining([
          expect.objectContaining({ field: "steps.2.task.continueFrom", message: "names step 'plan', which this step does not wait for: add it to after" }),
          expect.objectContaining({ field: "steps.3.task.continueFrom", message: "names step 'echo', a cli task: a claude-code task continues only a claude-code task's conversation" }),
        ]));
      });
    });

    it("a task that never started claude has no conversation: a follow-up of it is refused", async () => {
      await withManager(async (manager) => {
        const held = await manager.enqueueTask({ type: "claude-code", title: "never", prompt: "p", projectPath: project, runAt: new Date(Date.now() + 3_600_000).toISOString() });
        await manager.cancelTask(held.task.id);
        expect(await refusal(manager.enqueueTask({ type: "claude-code", title: "f", prompt: "p", continueFrom: held.task.id }))).toEqual([
          expect.objectContaining({ field: "continueFrom", message: "names a task with no conversation kept: its runs never started claude, or it was too long to keep" }),
        ]);
      });
    });

    it("a follow-up counts what it cost itself, not what the conversation had cost, and its own cap holds", async () => {
      await withManager(async (manager) => {
        const { store } = manager;
        // The first run makes a call of a million input tokens: $3 as claude prices it.
        standIn.enqueue({ kind: "text", text: "Dear.", inputTokens: 1_000_000 });
        const first = await manager.enqueueTask({ type: "claude-code", title: "dear", prompt: "p", projectPath: project });
        const firstCost = ((await ended(manager, first.task.id)).result as { totalCostUsd: number }).totalCostUsd;
        expect(firstCost).toBeGreaterThan(3);

        standIn.enqueue({ kind: "text", text: "Cheap." });
        const cheap = await manager.enqueueTask({ type: "claude-code", title: "cheap", prompt: "p", continueFrom: first.task.id });
        const cheapResult = (await ended(manager, cheap.task.id)).result as { totalCostUsd: number; conversationCostUsd: number };
        expect(cheapResult.totalCostUsd).toBeGreaterThan(0);
        expect(cheapResult.totalCostUsd).toBeLessThan(0.01); // claude says the session cost $3.0…: the run's own is counted
        expect(cheapResult.conversationCostUsd).toBeGreaterThan(firstCost);
        const spend = await new SpendStore(store.db).inWindow(3_600_000, null);
        expect(spend.spentUsd).toBeCloseTo(firstCost + cheapResult.totalCostUsd, 6);

        // A cap of 50 cents on a follow-up of the $3 conversation: the run's own spend is held to it —
        // two cheap calls complete, a dear one is stopped.
        standIn.enqueue({ kind: "tool_use", name: "Bash", input: { command: "true" } }, { kind: "text", text: "Under the cap." });
        const under = await manager.enqueueTask({ type: "claude-code", title: "under", prompt: "p", continueFrom: first.task.id, maxBudgetUsd: 0.5, allowedTools: ["Bash"] });
        expect(await ended(manager, under.task.id)).toMatchObject({ status: "completed", result: { text: "Under the cap." } });
        standIn.enqueue({ kind: "tool_use", name: "Bash", input: { command: "true" }, inputTokens: 1_000_000 }, { kind: "text", text: "never asked for" });
        const capped = await manager.enqueueTask({ type: "claude-code", title: "capped", prompt: "p", continueFrom: first.task.id, maxBudgetUsd: 0.5, allowedTools: ["Bash"], maxAttempts: 1 });
        const cappedEnd = await ended(manager, capped.task.id);
        expect(cappedEnd.error).toMatchObject({ code: "max_budget" });
        expect((cappedEnd.result as { totalCostUsd: number }).totalCostUsd).toBeCloseTo(3.00018, 3);
        standIn.reset();
      });
    });

    it("a kept conversation goes with its task (retention); one too long to keep is not kept", async () => {
      const { store } = await open();
      const conversations = new ConversationStore(store.db);
      const manager = testManager(store, {}, registry());
      await manager.start();
      let id: string;
      try {
        standIn.enqueue({ kind: "text", text: "kept" });
        const { task } = await manager.enqueueTask({ type: "claude-code", title: "k", prompt: "p", projectPath: project });
        id = task.id;
        expect((await ended(manager, id)).status).toBe("completed");
      } finally {
        await manager.stop(0);
      }
      const kept = await conversations.load(id);
      expect(kept?.transcript.toString("utf8")).toContain('"type":"assistant"');
      await store.deleteExpired(0);
      expect(await conversations.load(id)).toBeUndefined();

      const other = await testManager(store, {}, registry()).enqueueTask({ type: "cli", title: "c", command: "true", workingDirectory: root });
      // Random bytes do not compress: above the cap, nothing is kept.
      expect(await conversations.save(other.task.id, 1, { sessionId: "s", transcript: randomBytes(MAX_KEPT_CONVERSATION_BYTES + 1024) })).toBe(false);
      expect(await conversations.load(other.task.id)).toBeUndefined();
    });
  });
}
