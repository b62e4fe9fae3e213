/**
 * Outbound webhooks on a pipeline's end (migration 032), over real HTTP with real step processes,
 * on PGlite and PostgreSQL: completed, failed (no "blocked" on the way while the failure's
 * dependents are cancelled), blocked then completed after a retry — and blocked again when the
 * retry fails too, even when it fails before any sender looks (not for a task tagged with the
 * pipeline by hand) —, cancelled; each told once, signed, with the steps; the checks the trigger writes
 * only while a webhook asks for pipeline events. Two workers sharing PostgreSQL, whose steps end at
 * the same instant, tell each pipeline's end once.
 */
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { signBody } from "../src/hooks/signing.js";
import { createApp, listen } from "../src/http/server.js";
import { silentLogger } from "../src/logger.js";
import { announcement, PipelineAnnouncer } from "../src/pipelines/pipeline-announcer.js";
import type { PipelineRow } from "../src/store/sql/pipelines/pipeline-row.js";
import type { StepState } from "../src/store/sql/pipelines/select-step-states.js";
import { TaskStore } from "../src/store/task-store.js";
import { WebhookStore } from "../src/store/webhook-store.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import { WebhookSender } from "../src/webhooks/webhook-sender.js";
import { WebhookService } from "../src/webhooks/webhook-service.js";
import { cliRegistry, testManager } from "./support/manager.js";
import { sleep, waitFor } from "./support/process.js";
import { scriptedExecutor, type RunLog } from "./support/scripted-executor.js";
import { BACKENDS, dropSchema, postgresAvailable, TEST_DATABASE_URL, uniqueSchema } from "./support/stores.js";
import { startReceiver, type Receiver } from "./support/webhook-receiver.js";

const TOKEN = "api-token-0123456789";
const PIPELINE_EVENTS = ["pipeline.completed", "pipeline.failed", "pipeline.cancelled", "pipeline.blocked"];
const dir = mkdtempSync(path.join(tmpdir(), "ph-pipeline-webhooks-"));

/** A step that exits 0 when `flag` exists, 3 otherwise (a real process). */
const untilFlag = (title: string, flag: string) => ({ type: "cli", title, command: process.execPath, args: ["-e", "process.exit(require('fs').existsSync(process.argv[1]) ? 0 : 3)", flag], maxAttempts: 1 });
const ok = (title: string) => ({ type: "scripted", title, script: ["ok"], maxAttempts: 1 });
const fatal = (title: string) => ({ type: "scripted", title, script: ["fatal"], maxAttempts: 1 });
const hold = (title: string) => ({ type: "scripted", title, script: ["hold:20000"], maxAttempts: 1 });

interface Worker { manager: TaskManager; sender: WebhookSender; server: Server; url: string }

async function startWorker(store: TaskStore, workerId?: string): Promise<Worker> {
  const log: RunLog = [];
  const manager = testManager(store, { maxPerDocument: 5, ...(workerId ? { workerId } : {}) }, cliRegistry().register(scriptedExecutor(log)));
  const sender = new WebhookSender({ store: new WebhookStore(store.db), workerId: manager.workerId, pollMs: 100, timeoutMs: 2000, maxAttempts: 3, retry: { baseMs: 50, maxMs: 200 }, retentionMs: 86_400_000, logger: silentLogger() });
  for (const event of ["completed", "failed", "cancelled"] as const) manager.on(event, () => sender.taskChanged());
  const app = createApp({ manager, metrics: manager.metrics!, logger: silentLogger(), apiToken: TOKEN, webhooks: new WebhookService(new WebhookStore(store.db), () => sender.wake()) });
  const { server, url } = await listen(app, "127.0.0.1", 0, TOKEN);
  await manager.start();
  sender.start();
  return { manager, sender, server, url };
}

async function stopWorker(w: Worker): Promise<void> {
  await w.sender.stop();
  await w.manager.stop(0);
  w.server.closeAllConnections();
  await new Promise((resolve) => w.server.close(resolve));
}

async function call(url: string, method: string, route: string, body?: unknown) {
  const res = await fetch(`${url}${route}`, { method, headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function createWebhook(url: string, body: Record<string, unknown>): Promise<string> {
  const res = await call(url, "POST", "/api/webhooks", body);
  expect(res.status).toBe(201);
  return (res.body.webhook as { secret: string }).secret;
}

async function runPipeline(url: string, body: Record<string, unknown>): Promise<string> {
  const res = await call(url, "POST", "/api/pipelines", body);
  if (res.status !== 201) throw new Error(`pipeline refused: ${JSON.stringify(res.body)}`);
  return (res.body.pipeline as { id: string }).id;
}

/** The pipeline events received about `id`, in the order they arrived, once `count` have. */
async function pipelineEvents(receiver: Receiver, id: string, count: number): Promise<string[]> {
  const about = () => receiver.received.filter((r) => r.json.pipeline?.id === id);
  await waitFor(() => (about().length >= count ? true : undefined), 20_000, `${count} pipeline deliveries about ${id}`);
  await sleep(400); // and no more come
  return about().map((r) => r.json.event);
}

describe("what a pipeline's checks come to", () => {
  const row = (announced: string | null, onFailure = "wait"): [PipelineRow, (statuses: string[]) => Map<string, StepState>] => [
    { id: "p", title: "p", origin: "api", idempotency_key: null, created_at: new Date(), announced_status: announced, written_status: null, task_ids: ["a", "b"], steps: [{ name: "a", taskId: "a", after: [] }, { name: "b", taskId: "b", after: ["a"] }] },
    (statuses) => new Map(statuses.map((status, i) => [["a", "b"][i]!, { id: ["a", "b"][i]!, status: status as StepState["status"], error: null, on_dependency_failure: onFailure }])),
  ];
  it("an end is told once; running again clears it; blocked only when a step waits for a retry", () => {
    const [fresh, states] = row(null);
    expect(announcement(fresh, states(["completed", "completed"]))).toEqual({ announce: "pipeline.completed", status: "completed" });
    expect(announcement(row("completed")[0], states(["completed", "completed"]))).toBeUndefined();
    expect(announcement(fresh, states(["completed", "running"]))).toBeUndefined();
    expect(announcement(row("blocked")[0], states(["pending", "pending"]))).toEqual({ clear: true });
    expect(announcement(fresh, states(["failed", "pending"]))).toEqual({ announce: "pipeline.blocked", status: "blocked" });
    // b is about to be cancelled for a's failure: on the way to "failed", nothing to tell yet.
    const [doomed, doomedStates] = row(null, "cancel");
    expect(announcement(doomed, doomedStates(["failed", "pending"]))).toBeUndefined();
    expect(announcement(doomed, doomedStates(["failed", "cancelled"]))).toEqual({ announce: "pipeline.failed", status: "failed" });
    // A later step cancelled before the one it waits for (a pipeline's cancel): not blocked either.
    expect(announcement(fresh, states(["pending", "cancelled"]))).toBeUndefined();
    // Removed by retention: counts as completed.
    expect(announcement(fresh, new Map())).toEqual({ announce: "pipeline.completed", status: "completed" });
  });
});

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`pipeline webhooks on ${backend.name}`, () => {
    /** A test with a fresh store, a worker on it and a receiver, all gone after it. */
    const withWorker = (test: (ctx: { store: TaskStore; worker: Worker; receiver: Receiver }) => Promise<void>) => async () => {
      const { store, cleanup } = await backend.open();
      const [worker, receiver] = [await startWorker(store), await startReceiver()];
      try {
        await test({ store, worker, receiver });
      } finally {
        await stopWorker(worker);
        await receiver.close();
        await cleanup();
      }
    };
    const checksWritten = async (store: TaskStore) => (await store.db.query<{ n: number }>("SELECT count(*)::int AS n FROM ph_pipeline_checks")).rows[0]?.n;

    it("a completed pipeline is POSTed once, signed, with its steps, to the webhooks that ask for pipeline events only", withWorker(async ({ store, worker, receiver }) => {
      // A webhook on task ends only: the pipeline trigger stays off, no check is written.
      await createWebhook(worker.url, { name: "task-ends", url: `${receiver.url}/tasks` });
      const quiet = await runPipeline(worker.url, { title: "quiet", steps: [{ name: "a", task: ok("a") }] });
      await waitFor(() => (receiver.received.length >= 1 ? true : undefined), 10_000, "the task's end");
      expect(await checksWritten(store)).toBe(0);

      const secret = await createWebhook(worker.url, { name: "pipelines", url: `${receiver.url}/pipelines`, events: PIPELINE_EVENTS });
      const id = await runPipeline(worker.url, { title: "build and test", steps: [{ name: "build", task: ok("build") }, { name: "test", after: ["build"], task: ok("test") }, { name: "lint", after: ["build"], task: ok("lint") }] });
      expect(await pipelineEvents(receiver, id, 1)).toEqual(["pipeline.completed"]);
      const delivery = receiver.received.find((r) => r.json.pipeline?.id === id)!;
      expect(delivery.path).toBe("/pipelines");
      expect(delivery.headers["x-ph-event"]).toBe("pipeline.completed");
      expect(delivery.headers["x-signature-256"]).toBe(signBody(secret, delivery.body));
      expect(delivery.json.task).toBeUndefined();
      expect(delivery.json.pipeline).toMatchObject({ id, title: "build and test", origin: "api", status: "completed" });
      expect((delivery.json.pipeline?.steps as { name: string; status: string }[]).map((s) => `${s.name}:${s.status}`)).toEqual(["build:completed", "test:completed", "lint:completed"]);
      // The task webhook got the three steps' ends and no pipeline event; nothing about "quiet" went to the pipeline one.
      expect(receiver.received.filter((r) => r.path === "/tasks").map((r) => r.json.event)).toEqual(Array(4).fill("task.completed"));
      expect(receiver.received.filter((r) => r.json.pipeline?.id === quiet)).toHaveLength(0);
      const listed = await call(worker.url, "GET", "/api/webhooks/pipelines/deliveries");
      expect(listed.body.deliveries).toEqual([expect.objectContaining({ event: "pipeline.completed", pipelineId: id, taskId: null, status: "delivered" })]);
      expect(await checksWritten(store)).toBe(0); // taken
    }));

    it("a failed step whose failure cancels the rest: one pipeline.failed, no blocked on the way", withWorker(async ({ worker, receiver }) => {
      await createWebhook(worker.url, { name: "pipelines", url: receiver.url, events: PIPELINE_EVENTS });
      const id = await runPipeline(worker.url, { title: "doomed", steps: [{ name: "a", task: fatal("a") }, { name: "b", after: ["a"], task: ok("b") }, { name: "c", after: ["b"], task: ok("c") }] });
      expect(await pipelineEvents(receiver, id, 1)).toEqual(["pipeline.failed"]);
      const steps = receiver.received.find((r) => r.json.pipeline?.id === id)!.json.pipeline?.steps as { name: string; status: string; error?: { code: string } }[];
      expect(steps.map((s) => `${s.name}:${s.status}:${s.error?.code}`)).toEqual(["a:failed:bad_input", "b:cancelled:dependency_failed", "c:cancelled:dependency_failed"]);
    }));

    it("onFailure wait: blocked, blocked again when the retry fails too, then completed after a retry that works", withWorker(async ({ worker, receiver }) => {
      await createWebhook(worker.url, { name: "pipelines", url: receiver.url, events: PIPELINE_EVENTS });
      const flag = path.join(dir, `flag-${backend.name}`);
      const id = await runPipeline(worker.url, { title: "held", onFailure: "wait", steps: [{ name: "a", task: untilFlag("a", flag) }, { name: "b", after: ["a"], task: ok("b") }] });
      expect(await pipelineEvents(receiver, id, 1)).toEqual(["pipeline.blocked"]);
      expect((await call(worker.url, "POST", `/api/pipelines/${id}/retry`)).status).toBe(200);
      expect(await pipelineEvents(receiver, id, 2)).toEqual(["pipeline.blocked", "pipeline.blocked"]);
      writeFileSync(flag, "");
      expect(existsSync(flag)).toBe(true);
      expect((await call(worker.url, "POST", `/api/pipelines/${id}/retry`)).status).toBe(200);
      expect(await pipelineEvents(receiver, id, 3)).toEqual(["pipeline.blocked", "pipeline.blocked", "pipeline.completed"]);
    }));

    it("a retried step that fails again before any sender looks is told blocked again (the retry's check reopens the end)", withWorker(async ({ store, worker, receiver }) => {
      // No sender looks while the step is retried and fails again: the checks of both changes wait together.
      await worker.sender.stop();
      await createWebhook(worker.url, { name: "pipelines", url: receiver.url, events: PIPELINE_EVENTS });
      const id = await runPipeline(worker.url, { title: "held", onFailure: "wait", steps: [{ name: "a", task: untilFlag("a", path.join(dir, "never")) }, { name: "b", after: ["a"], task: ok("b") }] });
      const pipeline = async () => (await call(worker.url, "GET", `/api/pipelines/${id}`)).body.pipeline as { status: string; steps: { taskId: string }[] };
      await waitFor(async () => (await pipeline()).status === "blocked" || undefined, 10_000, "the pipeline to be blocked");
      const announcer = new PipelineAnnouncer(store.db);
      expect(await announcer.announce()).toMatchObject({ announced: 1 });
      const stepA = (await pipeline()).steps[0]!.taskId;
      const firstEnd = (await worker.manager.getTask(stepA))!.runtime.finishedAt?.getTime();
      expect((await call(worker.url, "POST", `/api/pipelines/${id}/retry`)).status).toBe(200);
      await waitFor(async () => {
        const task = await worker.manager.getTask(stepA);
        return (task?.status === "failed" && task.runtime.finishedAt?.getTime() !== firstEnd) || undefined;
      }, 10_000, "the retry to fail too");
      expect(await checksWritten(store)).toBe(2); // a left its end, then entered it again
      expect(await announcer.announce()).toMatchObject({ checks: 2, announced: 1 });
      expect(await announcer.announce()).toMatchObject({ checks: 0, announced: 0 });
      const events = await store.db.query<{ event: string }>("SELECT event FROM ph_webhook_deliveries WHERE task_id = $1 ORDER BY created_at, id", [id]);
      expect(events.rows.map((r) => r.event)).toEqual(["pipeline.blocked", "pipeline.blocked"]);
      // A task tagged with the pipeline by hand, failed and retried, is not one of its steps: nothing told.
      const { task: stray } = await worker.manager.enqueueTask({ ...untilFlag("stray", path.join(dir, "never")), tags: [`pipeline:${id}`] });
      const failedAt = async () => {
        const task = await worker.manager.getTask(stray.id);
        return task?.status === "failed" ? task.runtime.finishedAt?.getTime() : undefined;
      };
      const strayEnd = await waitFor(failedAt, 10_000, "the stray task to fail");
      expect(await worker.manager.retryTask(stray.id)).toBeDefined();
      await waitFor(async () => ((await failedAt()) ?? strayEnd) !== strayEnd || undefined, 10_000, "the stray task to fail again");
      expect(await announcer.announce()).toMatchObject({ checks: 3, announced: 0 });
    }));

    it("a pipeline cancelled while a step runs: one pipeline.cancelled", withWorker(async ({ worker, receiver }) => {
      await createWebhook(worker.url, { name: "pipelines", url: receiver.url, events: ["pipeline.cancelled", "pipeline.blocked"] });
      const id = await runPipeline(worker.url, { title: "stopped", steps: [{ name: "a", task: hold("a") }, { name: "b", after: ["a"], task: ok("b") }] });
      await waitFor(async () => ((await call(worker.url, "GET", `/api/pipelines/${id}`)).body.pipeline as { status: string }).status === "running" || undefined, 10_000, "the first step to run");
      expect((await call(worker.url, "POST", `/api/pipelines/${id}/cancel`)).status).toBe(202);
      expect(await pipelineEvents(receiver, id, 1)).toEqual(["pipeline.cancelled"]);
    }));

    it("a webhook may not ask for an event that does not exist; the error names the allowed ones", withWorker(async ({ worker, receiver }) => {
      const res = await call(worker.url, "POST", "/api/webhooks", { name: "bad", url: receiver.url, events: ["pipeline.done"] });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body.errors)).toContain("pipeline.completed, pipeline.failed, pipeline.cancelled, pipeline.blocked");
    }));
  });
}

describe.skipIf(!postgresAvailable)("pipeline webhooks with two workers sharing PostgreSQL", () => {
  it("steps ending at the same instant on both workers: each pipeline's end is told once", async () => {
    const schema = uniqueSchema();
    const stores = [await TaskStore.open({ databaseUrl: TEST_DATABASE_URL, schema }), await TaskStore.open({ databaseUrl: TEST_DATABASE_URL, schema })] as const;
    const receiver = await startReceiver();
    const workers = [await startWorker(stores[0], "worker-a"), await startWorker(stores[1], "worker-b")];
    try {
      await createWebhook(workers[0]!.url, { name: "pipelines", url: receiver.url, events: PIPELINE_EVENTS });
      const n = 15;
      // Four steps that wait for nothing: their ends are recorded by both workers at about the same time.
      const ids = await Promise.all(Array.from({ length: n }, (_, i) => runPipeline(workers[i % 2]!.url, { title: `p${i}`, steps: ["a", "b", "c", "d"].map((name) => ({ name, task: ok(`${i}${name}`) })) })));
      await waitFor(() => (receiver.received.length >= n ? true : undefined), 30_000, `${n} pipeline deliveries`);
      await sleep(800);
      expect(receiver.received.map((r) => r.json.event)).toEqual(Array(n).fill("pipeline.completed"));
      expect(new Set(receiver.received.map((r) => r.json.pipeline?.id))).toEqual(new Set(ids));
      // Both workers ran steps.
      const ran = await stores[0].db.query<{ last_worker: string }>("SELECT DISTINCT last_worker FROM ph_tasks WHERE last_worker IS NOT NULL");
      expect(ran.rows.length).toBe(2);
    } finally {
      for (const w of workers) await stopWorker(w);
      await receiver.close();
      for (const s of stores) await s.close();
      await dropSchema(schema);
    }
  });
});
