/**
 * Approval tasks on PGlite and PostgreSQL, through the HTTP API as a person (or the CLI) uses it: an
 * approval waits — in no worker's slot, never claimed — until someone decides; approved it
 * completes with who and why, and what waits for it runs; rejected it fails for good and its
 * dependents follow onDependencyFailure; after its dependencies complete it still waits for the
 * decision (the release trigger passes over it), a decision made before they complete lets it run
 * when they do; retried, it is asked again; a decision twice, on another type, on an ended or
 * unknown task is refused saying why; a request cannot bring its own decision; a startBy ends it
 * when no one decided in time. And from a task document: an approval asked for there waits, its
 * APPROVE completes it (the result in the document), an APPROVE the agent cannot act on leaves a
 * notice saying why, and the reducer refuses APPROVE on a task that is no approval or not waiting.
 * And as a user does it: a pipeline with an approval step, `ph-tasks show` saying what it waits
 * for, `ph-tasks approvals` listing it, `ph-tasks approve`, the pipeline running on to its end, `ph-tasks reject` then refused.
 */
import { mkdtempSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startAgent, type Agent } from "../src/agent.js";
import { loadConfig } from "../src/config.js";
import { createApp, listen } from "../src/http/server.js";
import { addTaskDocument, dispatch, getTaskDocumentState } from "../src/reactor/documents.js";
import { actions } from "../src/reactor/task-document/actions.js";
import type { TaskDocumentState } from "../src/reactor/task-document/state.js";
import { silentLogger } from "../src/logger.js";
import { WebhookStore } from "../src/store/webhook-store.js";
import { ApprovalExecutor } from "../src/tasks/executors/approval-executor.js";
import { WebhookService } from "../src/webhooks/webhook-service.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import { AgentProcess } from "./support/agent-process.js";
import { cliRegistry, testManager } from "./support/manager.js";
import { sleep, waitFor } from "./support/process.js";
import { BACKENDS, openWithSecondConnection } from "./support/stores.js";
import { workerPerTest } from "./support/worker-per-test.js";
import { documentReaches } from "./support/task-documents.js";

const dir = mkdtempSync(path.join(tmpdir(), "ph-approvals-"));
const registry = () => cliRegistry(dir).register(new ApprovalExecutor());
const sh = (title: string, script: string, extra: Record<string, unknown> = {}) => ({ type: "cli", title, command: "sh", args: ["-c", script], workingDirectory: dir, ...extra });
const ended = (manager: TaskManager, id: string) =>
  waitFor(async () => {
    const t = await manager.getTask(id);
    return t && ["completed", "failed", "cancelled"].includes(t.status) ? t : undefined;
  }, 15_000, `task ${id} to end`);

interface ApiAnswer {
  status: number;
  body: { task?: { id: string; status: string; waiting?: { code: string; message: string }; result?: unknown }; error?: string; message?: string; errors?: { field: string; message: string }[] };
}

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`approval tasks on ${backend.name}`, () => {
    const ctx = workerPerTest(backend, { maxConcurrent: 5, maxPerDocument: 10, maxPerDrive: 10, pollIntervalMs: 200 }, registry);
    let server: Server;
    let url = "";
    beforeEach(async () => {
      ({ server, url } = await listen(createApp({ manager: ctx.manager, metrics: ctx.manager.metrics!, logger: silentLogger() }), "127.0.0.1", 0, undefined));
    });
    afterEach(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });
    const api = async (method: string, route: string, body?: unknown): Promise<ApiAnswer> => {
      const res = await fetch(`${url}${route}`, { method, headers: { "Content-Type": "application/json" }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      return { status: res.status, body: (await res.json()) as ApiAnswer["body"] };
    };
    const enqueue = async (request: Record<string, unknown>) => (await ctx.manager.enqueueTask(request)).task.id;

    it("waits, unclaimed, for a decision; approved, it completes with who and why, and what waits for it runs", async () => {
      // A request cannot bring its own decision: the field is not the request's.
      const gate = await enqueue({ type: "approval", title: "deploy to production?", message: "build 42 passed", decision: { approved: true, by: "itself", at: "2026-01-01" } });
      const deploy = await enqueue(sh("deploy", "echo deployed", { dependsOn: [gate] }));
      await sleep(600); // several polls of a started worker
      const waiting = await api("GET", `/api/tasks/${gate}`);
      expect(waiting.body.task).toMatchObject({ status: "pending", attempts: 0, priority: 90 });
      expect(waiting.body.task?.waiting).toMatchObject({ code: "approval" });
      expect((await api("GET", `/api/tasks/${deploy}`)).body.task?.waiting).toMatchObject({ code: "dependencies" });

      const approved = await api("POST", `/api/tasks/${gate}/approve`, { by: "alice", note: "checked the changelog" });
      expect(approved.status).toBe(200);
      const done = await ended(ctx.manager, gate);
      expect(done).toMatchObject({ status: "completed", attempts: 1, result: { approved: true, by: "alice", note: "checked the changelog" } });
      expect(typeof (done.result as { at?: unknown }).at).toBe("string");
      expect((await ended(ctx.manager, deploy)).status).toBe("completed");
      const log = (await ctx.manager.getEvents(gate, 0, 100)).filter((e) => e.kind === "output").map((e) => e.data).join("");
      expect(log).toBe("approved by alice: checked the changelog\n");

      // Decided once: a second decision is refused, naming the first.
      const again = await api("POST", `/api/tasks/${gate}/reject`, { by: "bob" });
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({ error: "already_decided", message: expect.stringMatching(new RegExp(`^task ${gate} was approved by alice at `)) });
    });

    it("after its dependencies complete it still waits for the decision; rejected, it fails for good and its dependents are cancelled; retried, it is asked again", async () => {
      const build = await enqueue(sh("build", "true"));
      const gate = await enqueue({ type: "approval", title: "ship it?", dependsOn: [build] });
      const ship = await enqueue(sh("ship", "true", { dependsOn: [gate], onDependencyFailure: "wait" }));
      const notify = await enqueue(sh("notify", "true", { dependsOn: [gate], onDependencyFailure: "cancel" }));
      expect((await ended(ctx.manager, build)).status).toBe("completed");
      await sleep(600);
      expect((await api("GET", `/api/tasks/${gate}`)).body.task).toMatchObject({ status: "pending", attempts: 0, waiting: { code: "approval" } });

      const rejected = await api("POST", `/api/tasks/${gate}/reject`, { by: "carol", note: "not on a Friday" });
      expect(rejected.status).toBe(200);
      const failed = await ended(ctx.manager, gate);
      expect(failed).toMatchObject({ status: "failed", attempts: 1, error: { kind: "fatal", code: "rejected", message: "rejected by carol: not on a Friday" }, result: { approved: false, by: "carol" } });
      expect((await ended(ctx.manager, notify))).toMatchObject({ status: "cancelled", error: { code: "dependency_failed" } });
      expect((await ctx.manager.getTask(ship))?.status).toBe("pending");

      // Retried: the decision goes, and it waits for a new one.
      expect((await api("POST", `/api/tasks/${gate}/retry`)).status).toBe(200);
      await sleep(600);
      expect((await api("GET", `/api/tasks/${gate}`)).body.task).toMatchObject({ status: "pending", waiting: { code: "approval" } });
      expect((await api("POST", `/api/tasks/${gate}/approve`, { by: "carol", note: "Monday now" })).status).toBe(200);
      expect(await ended(ctx.manager, gate)).toMatchObject({ status: "completed", result: { approved: true, by: "carol", note: "Monday now" } });
      expect((await ended(ctx.manager, ship)).status).toBe("completed");
    });

    it("decided before its dependencies complete, it runs when they do", async () => {
      const flag = path.join(dir, `go-${backend.name}-${Date.now()}`);
      const build = await enqueue(sh("slow build", `while [ ! -f ${flag} ]; do sleep 0.05; done`));
      const gate = await enqueue({ type: "approval", title: "pre-approved", dependsOn: [build] });
      expect((await api("POST", `/api/tasks/${gate}/approve`, {})).status).toBe(200); // `by` defaults to "api"
      await sleep(300);
      expect((await api("GET", `/api/tasks/${gate}`)).body.task).toMatchObject({ status: "pending", waiting: { code: "dependencies" } });
      await import("node:fs/promises").then((fs) => fs.writeFile(flag, ""));
      expect(await ended(ctx.manager, gate)).toMatchObject({ status: "completed", result: { approved: true, by: "api" } });
    });

    it("tells once that an approval waits for a person, when its dependencies have completed: the awaitingApproval event, a webhook on awaiting_approval; asked again after a retry", async () => {
      await new WebhookService(new WebhookStore(ctx.store.db), () => undefined).create({ name: "approvers", url: "http://127.0.0.1:9/approvals", events: ["awaiting_approval"] });
      const told: string[] = [];
      ctx.manager.on("awaitingApproval", (task) => told.push(task.id));
      const flag = path.join(dir, `asked-${backend.name}-${Date.now()}`);
      const build = await enqueue(sh("build", `while [ ! -f ${flag} ]; do sleep 0.05; done`));
      const gate = await enqueue({ type: "approval", title: "ship?", message: "build 7 is green", dependsOn: [build] });
      const lone = await enqueue({ type: "approval", title: "alone" });
      const deliveries = async (id: string) => (await ctx.store.db.query<{ event: string; payload: { id: string; status: string } }>("SELECT event, payload FROM ph_webhook_deliveries WHERE task_id = $1", [id])).rows;
      await waitFor(() => (told.includes(lone) ? true : undefined), 10_000, "the lone approval asked");
      await sleep(1500); // more sweeps: the one waiting for its build is not asked yet, the other not again
      expect(told).toEqual([lone]);
      expect(await deliveries(gate)).toEqual([]);
      // Only the one asked for is listed as waiting for a decision.
      const listed = async () => ((await api("GET", "/api/approvals")).body as { approvals?: { id: string; message?: string }[] }).approvals?.map((a) => a.id);
      expect(await listed()).toEqual([lone]);
      await import("node:fs/promises").then((fs) => fs.writeFile(flag, ""));
      await waitFor(() => (told.includes(gate) ? true : undefined), 15_000, "the gate asked once its build completed");
      await sleep(1500);
      expect(told.sort()).toEqual([gate, lone].sort());
      expect(await deliveries(gate)).toEqual([{ event: "task.awaiting_approval", payload: expect.objectContaining({ id: gate, title: "ship?", status: "pending", message: "build 7 is green", askedAt: expect.any(String) }) }]);
      expect((await deliveries(lone))[0]?.payload).not.toHaveProperty("message"); // none asked
      expect(await deliveries(lone)).toHaveLength(1);
      expect(await listed()).toEqual([lone, gate]); // the longest waiting first
      // Rejected, then retried: asked again.
      await ctx.manager.decideApproval(lone, { approved: false, by: "erin" });
      expect(await listed()).toEqual([gate]);
      await ended(ctx.manager, lone);
      await ctx.manager.retryTask(lone);
      await waitFor(() => (told.filter((id) => id === lone).length === 2 ? true : undefined), 10_000, "the retried approval asked again");
      expect((await deliveries(lone)).filter((d) => d.event === "task.awaiting_approval")).toHaveLength(2);
    });

    it("decided before its runAt, it runs at its runAt, not before", async () => {
      const runAt = new Date(Date.now() + 3000).toISOString(); // far enough for a loaded machine to approve first
      const gate = await enqueue({ type: "approval", title: "not before", runAt });
      expect((await api("POST", `/api/tasks/${gate}/approve`, {})).status).toBe(200);
      await sleep(400);
      expect((await api("GET", `/api/tasks/${gate}`)).body.task).toMatchObject({ status: "pending", waiting: { code: "not_before" } });
      const done = await ended(ctx.manager, gate);
      expect(done.status).toBe("completed");
      expect(done.runtime.startedAt!.getTime()).toBeGreaterThanOrEqual(Date.parse(runAt));
    });

    it("refuses what it cannot decide, saying why: no such task, another type, an ended approval, a bad body", async () => {
      expect(await api("POST", "/api/tasks/no-such-task/approve", {})).toMatchObject({ status: 404, body: { error: "not_found" } });
      const other = await enqueue(sh("other", "true"));
      expect(await api("POST", `/api/tasks/${other}/approve`, {})).toMatchObject({ status: 409, body: { error: "not_an_approval", message: `task ${other} is a cli task, not an approval` } });
      const gate = await enqueue({ type: "approval", title: "never mind" });
      await ctx.manager.cancelTask(gate);
      expect(await api("POST", `/api/tasks/${gate}/approve`, {})).toMatchObject({ status: 409, body: { error: "not_waiting", message: `task ${gate} is cancelled: only a waiting approval can be decided (retry it to ask again)` } });
      const open = await enqueue({ type: "approval", title: "open" });
      const bad = await api("POST", `/api/tasks/${open}/approve`, { by: "", note: "x".repeat(2001), extra: 1 });
      expect(bad.status).toBe(400);
      expect(bad.body.errors).toEqual([
        expect.objectContaining({ field: "by", message: "must not be empty" }),
        expect.objectContaining({ field: "note", message: "Too big: expected string to have <=2000 characters" }),
        expect.objectContaining({ field: "(root)", message: 'Unrecognized key: "extra"' }),
      ]);
      expect((await ctx.manager.getTask(open))?.status).toBe("pending"); // nothing decided
    });

    it("not decided by its startBy: cancelled as expired", async () => {
      const gate = await enqueue({ type: "approval", title: "decide within a second", startBy: new Date(Date.now() + 1000).toISOString() });
      expect(await waitFor(async () => { const t = await ctx.manager.getTask(gate); return t?.status === "cancelled" ? t : undefined; }, 12_000, "the approval to expire")).toMatchObject({ error: { code: "expired" } });
    });
  });
}

describe("an approval asked for from its task document (a real reactor, the whole agent)", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "ph-approval-docs-"));
  let agent: Agent;
  beforeAll(async () => {
    agent = await startAgent(loadConfig({ TASK_DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "silent", TASK_SHUTDOWN_GRACE_MS: "100" }, dataDir), { logger: silentLogger() });
  });
  afterAll(async () => {
    await agent.stop();
  });
  const reaches = (id: string, statuses: string[]) => documentReaches(agent.reactor, id, statuses, 20_000);
  const gate = (title: string) => addTaskDocument(agent.reactor, agent.localDriveId, { spec: { title, taskType: "approval", params: { message: "release 7 is built" } }, requestRun: true });

  it("waits as queued; APPROVE completes it with the decision as its result; a second APPROVE is refused by the document", async () => {
    const id = await gate("Ship release 7?");
    const queued: TaskDocumentState = await reaches(id, ["queued"]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await getTaskDocumentState(agent.reactor, id)).status).toBe("queued"); // nothing ran it
    expect((await agent.manager.getTask(queued.currentTaskId!))?.status).toBe("pending");
    // The document says how to decide.
    const asked = await waitFor(async () => (await getTaskDocumentState(agent.reactor, id)).notices.find((n) => n.message.startsWith("waits for a person's decision")), 10_000, "the notice");
    expect(asked).toMatchObject({ level: "info", message: `waits for a person's decision: APPROVE or REJECT this document (or ph-tasks approve ${queued.currentTaskId})` });
    await dispatch(agent.reactor, id, actions.approve({ note: "go" }));
    const done = await reaches(id, ["completed", "failed"]);
    expect(done).toMatchObject({ status: "completed", result: { approved: true, by: "a writer of its document", note: "go" } });
    await expect(dispatch(agent.reactor, id, actions.approve({}))).rejects.toThrow("APPROVE: only a queued approval waits for a decision; this one is completed");
  });

  it("REJECT fails it as rejected; an APPROVE the agent cannot act on (decided meanwhile elsewhere) leaves a notice saying why", async () => {
    const id = await gate("Ship release 8?");
    const queued = await reaches(id, ["queued"]);
    // Decided through the API a moment before the document's APPROVE reaches the agent.
    expect(await agent.manager.decideApproval(queued.currentTaskId!, { approved: false, by: "dave", note: "tests are red" })).toBeTruthy();
    await dispatch(agent.reactor, id, actions.approve({}));
    const failed = await reaches(id, ["failed"]);
    expect(failed.error).toMatchObject({ code: "rejected", message: "rejected by dave: tests are red" });
    const notice = await waitFor(async () => (await getTaskDocumentState(agent.reactor, id)).notices.find((n) => n.message.startsWith("approval ignored")), 10_000, "the notice");
    expect(notice).toMatchObject({ level: "warning", message: `approval ignored: task ${queued.currentTaskId} was rejected by dave at ${String((await agent.manager.getTask(queued.currentTaskId!) as { decision?: { at?: string } }).decision?.at)}` });
  });

  it("the document refuses APPROVE and REJECT on a task that is no approval", async () => {
    const id = await addTaskDocument(agent.reactor, agent.localDriveId, { spec: { title: "Plain", taskType: "cli", params: { command: "sleep", args: ["5"] } }, requestRun: true });
    await reaches(id, ["queued", "running"]);
    await expect(dispatch(agent.reactor, id, actions.reject({ note: "no" }))).rejects.toThrow("REJECT: the task is a cli task, not an approval");
    await dispatch(agent.reactor, id, actions.cancel({}));
  });
});

describe("ph-tasks approve / reject, a pipeline's approval step, against a running agent", () => {
  const cwd = mkdtempSync(path.join(tmpdir(), "ph-approval-cli-"));
  let agent: AgentProcess;
  beforeAll(() => {
    agent = new AgentProcess(cwd, { TASK_SHUTDOWN_GRACE_MS: "100", TASK_ALLOWED_ROOTS: cwd });
  });
  afterAll(async () => {
    await agent.stop("SIGKILL");
  });

  it("the pipeline waits at its approval step until `ph-tasks approve`, then runs on to its end", async () => {
    const step = (name: string) => ({ type: "cli", title: name, command: process.execPath, args: ["-e", `console.log(${JSON.stringify(name)})`] });
    const pipeline = { title: "release 9", steps: [{ name: "build", task: step("build") }, { name: "sign-off", after: ["build"], task: { type: "approval", title: "ship release 9?" } }, { name: "ship", after: ["sign-off"], task: step("ship") }] };
    const sent = await agent.cliAsync(["pipeline", "run", JSON.stringify(pipeline), "--json"]);
    expect(sent.status).toBe(0);
    const id = (JSON.parse(sent.stdout) as { id: string }).id;
    const stepTask = async (name: string) => ((JSON.parse((await agent.cliAsync(["pipeline", "show", id, "--json"])).stdout) as { steps: { name: string; status: string; task?: { id: string } }[] }).steps.find((s) => s.name === name));
    const gate = await waitFor(async () => { const s = await stepTask("build"); return s?.status === "completed" ? stepTask("sign-off") : undefined; }, 20_000, "the build");
    const gateId = gate.task?.id ?? "";
    expect(gateId).not.toBe("");
    const shown = await agent.cliAsync(["show", gateId]);
    expect(shown.stdout).toContain("waiting:   waits for a person's decision: ph-tasks approve (or reject) it, or its document's APPROVE / REJECT");
    expect((await stepTask("ship"))?.status).toBe("pending");

    const waiting = await waitFor(async () => { const out = (await agent.cliAsync(["approvals"])).stdout; return out.includes(gateId) ? out : undefined; }, 10_000, "the approvals list");
    expect(waiting).toMatch(new RegExp(`^ID\\s+ASKED\\s+QUESTION\\s+MESSAGE\\s+WHO MAY DECIDE\\n[- ]+\\n${gateId}\\s+\\d+s ago\\s+ship release 9\\?\\s+anyone\\n`));
    expect(waiting).toContain("1 waiting for a decision: ph-tasks approve <id> / reject <id>");
    // The pipeline says what it waits for: a status of its own, the step awaiting a decision.
    const stopped = (await agent.cliAsync(["pipeline", "show", id])).stdout;
    expect(stopped).toMatch(new RegExp(`${id}\\s+awaiting_approval\\s+release 9`));
    expect(stopped).toMatch(new RegExp(`sign-off\\s+awaiting decision\\s+${gateId}`));
    expect((await agent.cliAsync(["pipeline", "list", "--status", "awaiting_approval"])).stdout).toContain(id);
    expect((await agent.cliAsync(["pipeline", "list", "--status", "running"])).stdout).not.toContain(id);
    const approved = await agent.cliAsync(["approve", gateId, "--note", "all green", "--by", "dave"]);
    expect(approved).toMatchObject({ status: 0, stdout: `${gateId} approved by dave\n` });
    expect(await waitFor(async () => { const s = await stepTask("ship"); return s?.status === "completed" ? s : undefined; }, 20_000, "the ship step")).toBeTruthy();
    expect((await agent.cliAsync(["pipeline", "show", id])).stdout).toMatch(new RegExp(`${id}\\s+completed\\s+release 9`));
    expect((await agent.cliAsync(["logs", gateId])).stdout).toBe("approved by dave: all green\n");

    // A lone one from the CLI, rejected.
    const lone = await agent.cliAsync(["submit", "approval", "rotate the keys?", "--message", "the old ones leaked", "--start-within", "1h"]);
    expect(lone.status).toBe(0);
    const loneId = lone.stdout.trim();
    expect((await agent.cliAsync(["show", loneId])).stdout).toMatch(/type:\s+approval[\s\S]*waiting:\s+waits for a person's decision/);
    expect(await agent.cliAsync(["reject", loneId, "--note", "not yet", "--by", "erin"])).toMatchObject({ status: 0, stdout: `${loneId} rejected by erin\n` });
    const rejected = await waitFor(async () => { const shown = (await agent.cliAsync(["show", loneId])).stdout; return shown.includes("status:    failed") ? shown : undefined; }, 20_000, "the rejection");
    expect(rejected).toContain("error:     rejected: rejected by erin: not yet");

    const late = await agent.cliAsync(["reject", gateId]);
    expect(late.status).not.toBe(0);
    expect(late.stderr).toContain(`task ${gateId} was approved by dave at `);
  }, 120_000); // some twenty CLI runs, each a Node process of its own: 27 s alone, twice that on a busy machine
});

for (const backend of BACKENDS.filter((b) => b.name === "postgres")) {
  describe.skipIf(!backend.available)("approvals asked for across two workers on PostgreSQL", () => {
    it("each approval is asked for once, whichever worker's sweep finds it", async () => {
      const { store, other, cleanup } = await openWithSecondConnection(backend);
      const managers = [testManager(store, {}, registry()), testManager(other, {}, registry())];
      const told: string[] = [];
      for (const manager of managers) manager.on("awaitingApproval", (task) => told.push(task.id));
      try {
        await new WebhookService(new WebhookStore(store.db), () => undefined).create({ name: "approvers", url: "http://127.0.0.1:9/a", events: ["awaiting_approval"] });
        await Promise.all(managers.map((m) => m.start()));
        const ids: string[] = [];
        for (let i = 0; i < 20; i++) ids.push((await managers[i % 2]!.enqueueTask({ type: "approval", title: `gate ${i}` })).task.id);
        await waitFor(() => (new Set(told).size === 20 ? true : undefined), 15_000, "every approval asked");
        await sleep(2500); // both sweeps again, twice
        expect(told.sort()).toEqual(ids.sort());
        const { rows } = await store.db.query<{ n: number }>("SELECT count(*)::int AS n FROM ph_webhook_deliveries WHERE event = 'task.awaiting_approval'");
        expect(rows[0]?.n).toBe(20);
      } finally {
        await Promise.all(managers.map((m) => m.stop(0)));
        await cleanup();
      }
    });
  });
}
