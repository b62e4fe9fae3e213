/**
 * Pipelines over real HTTP, on PGlite and PostgreSQL, with a real reactor for their task documents
 * and real processes for their steps: steps run in the order their links give (a chain, a fan-out
 * and fan-in), a failed step cancels or holds the steps after it, a pipeline is retried and
 * cancelled as a whole, a bad request is refused naming every field with nothing stored (no task,
 * no document, no pipeline), an idempotency key makes one pipeline of three requests at once, steps
 * may name templates, and the retention cleanup removes a pipeline with its last task.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import type { IDocumentDriveServer } from "document-drive";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createApp, listen } from "../src/http/server.js";
import { silentLogger } from "../src/logger.js";
import { PipelineService, pipelineStatus } from "../src/pipelines/pipeline-service.js";
import { listTaskDocuments } from "../src/reactor/documents.js";
import { createReactor } from "../src/reactor/reactor-setup.js";
import { PipelineStore } from "../src/store/pipeline-store.js";
import type { TaskStore } from "../src/store/task-store.js";
import { TemplateStore } from "../src/store/template-store.js";
import { createApiTaskBatchCreator } from "../src/tasks/api-task-creator.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import { TemplateService } from "../src/templates/template-service.js";
import { AgentProcess } from "./support/agent-process.js";
import { cliRegistry, testManager } from "./support/manager.js";
import { waitFor } from "./support/process.js";
import { BACKENDS } from "./support/stores.js";
import { startReceiver } from "./support/webhook-receiver.js";

interface StepJson {
  name: string;
  after: string[];
  taskId: string;
  status: string;
  task: { id: string; status: string; tags?: string[]; startedAt?: string; finishedAt?: string; error?: { code: string; message: string }; source?: { documentId?: string }; dependsOn?: string[] } | null;
}
interface PipelineJson {
  id: string;
  title: string;
  status: string;
  steps: StepJson[];
}

const dir = mkdtempSync(path.join(tmpdir(), "ph-pipelines-"));
/** A step that appends its name to the run log, after `ms`. */
const step = (name: string, ms = 0, extra: Record<string, unknown> = {}) => ({
  type: "cli",
  title: name,
  command: process.execPath,
  args: ["-e", `setTimeout(() => require("fs").appendFileSync(process.argv[1], process.argv[2] + "\\n"), ${ms})`, path.join(dir, "runs.log"), name],
  maxAttempts: 1,
  ...extra,
});
/** A step that fails until `flag` exists. */
const untilFlag = (name: string, flag: string) => ({ type: "cli", title: name, command: process.execPath, args: ["-e", "process.exit(require('fs').existsSync(process.argv[1]) ? 0 : 3)", flag], maxAttempts: 1 });

describe("a pipeline's status from its steps'", () => {
  it("pending, running, awaiting_approval, blocked, completed, failed, cancelled", () => {
    expect(pipelineStatus(["pending", "pending"])).toBe("pending");
    expect(pipelineStatus(["completed", "pending"])).toBe("running");
    expect(pipelineStatus(["running", "pending"])).toBe("running");
    expect(pipelineStatus(["failed", "running", "pending"])).toBe("running");
    expect(pipelineStatus(["failed", "pending"])).toBe("blocked");
    expect(pipelineStatus(["completed", "awaiting_decision", "pending"])).toBe("awaiting_approval");
    expect(pipelineStatus(["awaiting_decision", "running"])).toBe("running");
    expect(pipelineStatus(["awaiting_decision", "failed"])).toBe("blocked");
    expect(pipelineStatus(["completed", "completed"])).toBe("completed");
    expect(pipelineStatus(["completed", "removed"])).toBe("completed");
    expect(pipelineStatus(["failed", "cancelled"])).toBe("failed");
    expect(pipelineStatus(["completed", "cancelled"])).toBe("cancelled");
  });
});

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`pipelines on ${backend.name}`, () => {
    let reactor: IDocumentDriveServer;
    let driveId: string;
    let store: TaskStore;
    let cleanup: () => Promise<void>;
    let manager: TaskManager;
    let server: Server;
    let url: string;
    const call = async (method: string, route: string, body?: unknown) => {
      const res = await fetch(`${url}${route}`, { method, headers: { "Content-Type": "application/json" }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const create = async (body: unknown) => {
      const res = await call("POST", "/api/pipelines", body);
      if (res.status !== 201) throw new Error(`pipeline refused: ${JSON.stringify(res.body)}`);
      return res.body.pipeline as PipelineJson;
    };
    const get = async (id: string) => (await call("GET", `/api/pipelines/${id}`)).body.pipeline as PipelineJson;
    const settled = (id: string, statuses = ["completed", "failed", "cancelled", "blocked"]) =>
      waitFor(async () => {
        const pipeline = await get(id);
        return statuses.includes(pipeline.status) ? pipeline : undefined;
      }, 20_000, `pipeline ${id} to end`);
    const byName = (pipeline: PipelineJson) => Object.fromEntries(pipeline.steps.map((s) => [s.name, s]));
    const runs = () => (existsSync(path.join(dir, "runs.log")) ? readFileSync(path.join(dir, "runs.log"), "utf8").split("\n").filter(Boolean) : []);
    const counts = async () => ({ tasks: (await manager.listTasks({ limit: 500, offset: 0 })).total, documents: (await listTaskDocuments(reactor)).length, pipelines: ((await call("GET", "/api/pipelines")).body.pipelines as unknown[]).length });

    beforeAll(async () => {
      ({ reactor, localDriveId: driveId } = await createReactor({ storage: { kind: "memory" }, logger: silentLogger(), logLevel: "silent" }));
    });
    beforeEach(async () => {
      writeFileSync(path.join(dir, "runs.log"), "");
      ({ store, cleanup } = await backend.open());
      manager = testManager(store, { maxConcurrent: 3, maxPerDocument: 1, maxPerDrive: 10 }, cliRegistry(dir));
      const templates = new TemplateService(new TemplateStore(store.db), manager.registry);
      const pipelines = new PipelineService(new PipelineStore(store.db), manager, createApiTaskBatchCreator(manager, reactor, driveId), (input) => templates.expand(input));
      ({ server, url } = await listen(createApp({ manager, metrics: manager.metrics!, logger: silentLogger(), templates, pipelines }), "127.0.0.1", 0, undefined));
      await manager.start();
    });
    afterEach(async () => {
      await manager.stop(0);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await cleanup();
    });

    it("build → test → deploy: run in that order, each task with its document and the pipeline's tag; the status follows the steps", async () => {
      const documentsBefore = (await listTaskDocuments(reactor)).length;
      const sent = await create({ title: "release 42", steps: [{ name: "build", task: step("build", 150) }, { name: "test", after: ["build"], task: step("test") }, { name: "deploy", after: ["test"], task: step("deploy") }] });
      expect(sent.title).toBe("release 42");
      expect(["pending", "running"]).toContain(sent.status);
      expect(sent.steps.map((s) => [s.name, s.after])).toEqual([["build", []], ["test", ["build"]], ["deploy", ["test"]]]);
      const tag = `pipeline:${sent.id}`;
      for (const s of sent.steps) expect(s.task?.tags).toEqual([tag]);
      // The links are ordinary dependencies: test waits for build's task, deploy for test's.
      expect(byName(sent).test?.task?.dependsOn).toEqual([byName(sent).build?.taskId]);
      const documents = await listTaskDocuments(reactor);
      expect(documents.length - documentsBefore).toBe(3);
      for (const s of sent.steps) expect(documents.map((d) => d.documentId)).toContain(s.task?.source?.documentId);

      const done = await settled(sent.id);
      expect(done.status).toBe("completed");
      expect(runs()).toEqual(["build", "test", "deploy"]);
      const { build, test, deploy } = byName(done);
      expect(Date.parse(test?.task?.startedAt ?? "")).toBeGreaterThanOrEqual(Date.parse(build?.task?.finishedAt ?? ""));
      expect(Date.parse(deploy?.task?.startedAt ?? "")).toBeGreaterThanOrEqual(Date.parse(test?.task?.finishedAt ?? ""));
      // Its tasks are found by its tag; it heads the list.
      const tagged = await call("GET", `/api/tasks?tag=${encodeURIComponent(tag)}`);
      expect(tagged.body.total).toBe(3);
      const listed = (await call("GET", "/api/pipelines")).body.pipelines as PipelineJson[];
      expect(listed[0]).toMatchObject({ id: sent.id, status: "completed" });
    });

    it("fans out and in: b and c after a run side by side, d after both", async () => {
      const sent = await create({ title: "fan", steps: [{ name: "a", task: step("a") }, { name: "b", after: ["a"], task: step("b", 400) }, { name: "c", after: ["a"], task: step("c", 400) }, { name: "d", after: ["b", "c"], task: step("d") }] });
      const done = await settled(sent.id);
      expect(done.status).toBe("completed");
      const { a, b, c, d } = byName(done);
      const at = (s: StepJson | undefined, field: "startedAt" | "finishedAt") => Date.parse(s?.task?.[field] ?? "");
      expect(at(b, "startedAt")).toBeGreaterThanOrEqual(at(a, "finishedAt"));
      expect(at(c, "startedAt")).toBeGreaterThanOrEqual(at(a, "finishedAt"));
      // Side by side: each started before the other ended.
      expect(at(b, "startedAt")).toBeLessThan(at(c, "finishedAt"));
      expect(at(c, "startedAt")).toBeLessThan(at(b, "finishedAt"));
      expect(at(d, "startedAt")).toBeGreaterThanOrEqual(Math.max(at(b, "finishedAt"), at(c, "finishedAt")));
      expect(runs()[0]).toBe("a");
      expect(runs()[3]).toBe("d");
    });

    it("a failed step cancels the steps after it (the default); another branch runs on; retry runs it again and the rest follow", async () => {
      const flag = path.join(dir, `flag-${Date.now()}`);
      const sent = await create({ title: "fails first", steps: [{ name: "build", task: untilFlag("build", flag) }, { name: "test", after: ["build"], task: step("test") }, { name: "deploy", after: ["test"], task: step("deploy") }, { name: "lint", task: step("lint") }] });
      const failed = await waitFor(async () => {
        const p = await get(sent.id);
        return p.status === "failed" ? p : undefined;
      }, 20_000, "the pipeline to fail");
      const { build, test, deploy, lint } = byName(failed);
      expect(build?.status).toBe("failed");
      expect([test?.status, test?.task?.error?.code]).toEqual(["cancelled", "dependency_failed"]);
      expect([deploy?.status, deploy?.task?.error?.code]).toEqual(["cancelled", "dependency_failed"]);
      expect(lint?.status).toBe("completed");
      expect(runs()).toEqual(["lint"]);

      writeFileSync(flag, "");
      const retried = await call("POST", `/api/pipelines/${sent.id}/retry`, {});
      expect(retried.status).toBe(200);
      // Each after the step it waits for, so none is cancelled again for a dependency still failed.
      expect(retried.body.retried).toEqual([build?.taskId, test?.taskId, deploy?.taskId]);
      const done = await settled(sent.id);
      expect(done.status).toBe("completed");
      expect(runs()).toEqual(["lint", "test", "deploy"]);
    });

    it('onFailure "wait": the steps after a failed one wait (blocked); cancel ends them', async () => {
      const sent = await create({ title: "holds", onFailure: "wait", steps: [{ name: "build", task: untilFlag("build", path.join(dir, "never")) }, { name: "test", after: ["build"], task: step("test") }, { name: "deploy", after: ["test"], task: step("deploy") }] });
      const blocked = await settled(sent.id);
      expect(blocked.status).toBe("blocked");
      expect(blocked.steps.map((s) => s.status)).toEqual(["failed", "pending", "pending"]);
      const cancelled = await call("POST", `/api/pipelines/${sent.id}/cancel`, {});
      expect(cancelled.status).toBe(202);
      expect((cancelled.body.cancelled as string[]).sort()).toEqual([byName(sent).test?.taskId, byName(sent).deploy?.taskId].sort());
      const ended = await get(sent.id);
      expect(ended.status).toBe("failed");
      expect(ended.steps.map((s) => s.status)).toEqual(["failed", "cancelled", "cancelled"]);
      expect(runs()).toEqual([]);
    });

    it("cancel stops a running step and the ones after it", async () => {
      const sent = await create({ title: "long", steps: [{ name: "slow", task: step("slow", 30_000) }, { name: "after", after: ["slow"], task: step("after") }] });
      await waitFor(async () => ((await get(sent.id)).status === "running" ? true : undefined), 10_000, "the first step to start");
      const cancelled = await call("POST", `/api/pipelines/${sent.id}/cancel`, {});
      expect((cancelled.body.cancelled as string[]).sort()).toEqual(sent.steps.map((s) => s.taskId).sort());
      const ended = await settled(sent.id);
      expect(ended.status).toBe("cancelled");
      expect(runs()).toEqual([]);
    });

    it("a bad request is refused as a whole, naming every field; nothing is stored, no document made", async () => {
      const before = await counts();
      const refused = async (body: unknown) => {
        const res = await call("POST", "/api/pipelines", body);
        expect(res.status).toBe(400);
        return (res.body.errors as { field: string; message: string }[]).map((e) => `${e.field}: ${e.message}`);
      };
      expect(await refused({ title: "x", steps: [{ name: "a", task: step("a") }, { name: "b", after: ["a", "nope"], task: step("b") }] })).toEqual([expect.stringMatching(/^steps\.1\.after\.1: names no step of this pipeline \(its steps: a, b\)/)]);
      expect(await refused({ title: "x", steps: [{ name: "a", after: ["c"], task: step("a") }, { name: "b", after: ["a"], task: step("b") }, { name: "c", after: ["b"], task: step("c") }] })).toEqual([expect.stringMatching(/^steps\.0\.after: makes a cycle: a → c → b → a/)]);
      expect(await refused({ title: "x", steps: [{ name: "a", task: step("a") }, { name: "a", task: step("a") }] })).toEqual([expect.stringMatching(/^steps\.1\.name: is the name of steps\.0 too/)]);
      expect(await refused({ title: "x", steps: [{ name: "a", after: ["a"], task: step("a") }] })).toEqual([expect.stringMatching(/^steps\.0\.after\.0: names the step itself/)]);
      const many = await refused({
        title: "x",
        steps: [
          { name: "a", task: { ...step("a"), idempotencyKey: "k" } },
          { name: "b", task: { type: "cli", title: "b", command: "" } },
          { name: "c", task: { ...step("c"), tags: Array.from({ length: 20 }, (_, i) => `t${i}`) } },
          { name: "d", task: { type: "nope", title: "d" } },
        ],
      });
      expect(many).toEqual(expect.arrayContaining([
        expect.stringMatching(/^steps\.0\.task\.idempotencyKey: a step takes none/),
        expect.stringMatching(/^steps\.1\.task\.command: /),
        expect.stringMatching(/^steps\.2\.task\.tags: at most 19 in a pipeline's step/),
        expect.stringMatching(/^steps\.3\.task\.type: must be one of: cli/),
      ]));
      expect(await refused({ title: "", steps: [], extra: 1, onFailure: "maybe" })).toEqual(expect.arrayContaining([expect.stringMatching(/^title: /), expect.stringMatching(/^steps: must hold at least one step/), expect.stringMatching(/^onFailure: must be "cancel" or "wait"/), expect.stringMatching(/extra/)]));
      expect(await refused({ title: "x", steps: [{ name: "Build!", task: step("a") }] })).toEqual([expect.stringMatching(/^steps\.0\.name: must be 1-40 lowercase letters/)]);
      // The store refuses a step that waits for a task that does not exist: the whole pipeline goes,
      // its row too (one transaction), and the documents made for it.
      expect(await refused({ title: "x", steps: [{ name: "a", task: step("a") }, { name: "b", after: ["a"], task: { ...step("b"), dependsOn: ["no-such-task"] } }] })).toEqual([expect.stringMatching(/^dependsOn: names no task: 'no-such-task'/)]);
      expect(await counts()).toEqual(before);
    });

    it("a step may also wait for a task outside the pipeline, by id", async () => {
      const outside = await manager.enqueueTask(step("outside", 300));
      const sent = await create({ title: "after another", steps: [{ name: "inside", task: { ...step("inside"), dependsOn: [outside.task.id] } }] });
      expect((await settled(sent.id)).status).toBe("completed");
      expect(runs()).toEqual(["outside", "inside"]);
    });

    it("the same idempotency key: one pipeline, even for three requests at once", async () => {
      const before = await counts();
      const body = { title: "once", idempotencyKey: "release-43", steps: [{ name: "a", task: step("a") }, { name: "b", after: ["a"], task: step("b") }] };
      const answers = await Promise.all([1, 2, 3].map(() => call("POST", "/api/pipelines", body)));
      expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 201]);
      const ids = new Set(answers.map((a) => (a.body.pipeline as PipelineJson).id));
      expect(ids.size).toBe(1);
      const after = await counts();
      expect(after).toEqual({ tasks: before.tasks + 2, documents: before.documents + 2, pipelines: before.pipelines + 1 });
      const again = await call("POST", "/api/pipelines", body);
      expect([again.status, (again.body.pipeline as PipelineJson).id, again.body.created]).toEqual([200, [...ids][0], false]);
      expect((await settled([...ids][0] ?? "")).status).toBe("completed");
      expect(runs()).toEqual(["a", "b"]);
    });

    it("a step may name a template; a parameter it leaves out is named", async () => {
      expect((await call("PUT", "/api/templates/say", { task: { ...step("{{params.word}}"), args: ["-e", "require('fs').appendFileSync(process.argv[1], process.argv[2] + '\\n')", path.join(dir, "runs.log"), "{{params.word}}"] } })).status).toBe(201);
      const sent = await create({ title: "templated", steps: [{ name: "one", task: { template: "say", params: { word: "hello" } } }, { name: "two", after: ["one"], task: { template: "say", params: { word: "world" }, title: "second" } }] });
      expect(byName(sent).two?.task).toMatchObject({ status: "pending" });
      expect((await settled(sent.id)).status).toBe("completed");
      expect(runs()).toEqual(["hello", "world"]);
      const missing = await call("POST", "/api/pipelines", { title: "x", steps: [{ name: "one", task: { template: "say", params: {} } }] });
      expect(missing.status).toBe(400);
      expect(missing.body.errors).toEqual([expect.objectContaining({ field: "steps.0.task.params.word" })]);
    });

    it("the retention cleanup removes a pipeline with its last task; one with a task still waiting stays", async () => {
      const finished = await create({ title: "old", steps: [{ name: "a", task: step("a") }] });
      expect((await settled(finished.id)).status).toBe("completed");
      const waiting = await create({ title: "later", steps: [{ name: "a", task: { ...step("a"), runAt: new Date(Date.now() + 3_600_000).toISOString() } }] });
      expect(await store.deleteExpired(0)).toBeGreaterThan(0);
      expect((await call("GET", `/api/pipelines/${finished.id}`)).status).toBe(404);
      expect((await get(waiting.id)).status).toBe("pending");
    });

    it("unknown pipelines are 404 for get, cancel and retry; a bad list query is a 400", async () => {
      for (const [method, route] of [["GET", "/api/pipelines/nope"], ["POST", "/api/pipelines/nope/cancel"], ["POST", "/api/pipelines/nope/retry"]] as const) {
        const res = await call(method, route, method === "POST" ? {} : undefined);
        expect([res.status, res.body.message]).toEqual([404, "no pipeline with id or name 'nope'"]);
      }
      const bad = await call("GET", "/api/pipelines?limit=0");
      expect([bad.status, (bad.body.errors as { field: string }[])[0]?.field]).toEqual([400, "limit"]);
    });
  });
}

describe("ph-tasks pipeline, against a running agent", () => {
  const cwd = mkdtempSync(path.join(tmpdir(), "ph-pipeline-cli-"));
  let agent: AgentProcess;
  beforeAll(() => {
    agent = new AgentProcess(cwd, { TASK_SHUTDOWN_GRACE_MS: "100", TASK_ALLOWED_ROOTS: cwd });
  });
  afterAll(async () => {
    await agent.stop("SIGKILL");
  });
  const cliStep = (name: string, code = 0) => ({ type: "cli", title: name, command: process.execPath, args: ["-e", `console.log(${JSON.stringify(name)}); process.exit(${code})`], maxAttempts: 1 });

  it("run --wait follows the steps to the end and exits 0; show and list tell its state", async () => {
    const file = path.join(cwd, "release.json");
    writeFileSync(file, JSON.stringify({ title: "release from a file", steps: [{ name: "build", task: cliStep("build") }, { name: "ship", after: ["build"], task: cliStep("ship") }] }));
    const run = await agent.cliAsync(["pipeline", "run", "--file", file, "--wait"]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    // Each change of a step once, in order (a fast machine may have built before the first look).
    expect(run.stdout).toMatch(/build: completed[\s\S]*ship: completed/);
    expect(run.stdout.match(/^build: completed$/gm)).toHaveLength(1);
    expect(run.stdout.match(/^ship: completed$/gm)).toHaveLength(1);
    const id = /^pipeline (\S+): 2 step\(s\)/m.exec(run.stdout)?.[1] ?? "";
    expect(run.stdout).toContain(`${id}  completed  release from a file`);
    const shown = await agent.cliAsync(["pipeline", "show", id]);
    expect(shown.stdout).toMatch(/STEP\s+STATUS\s+TASK\s+AFTER/);
    expect(shown.stdout).toMatch(/ship\s+completed\s+\S+\s+build/);
    const listed = await agent.cliAsync(["pipeline", "list"]);
    expect(listed.stdout).toMatch(new RegExp(`${id}\\s+completed\\s+2/2`));
    expect((await agent.cliAsync(["pipeline", "list", "--status", "completed"])).stdout).toContain(id);
    expect((await agent.cliAsync(["pipeline", "list", "--status", "failed"])).stdout).not.toContain(id);
    expect((await agent.cliAsync(["pipeline", "list", "--status", "done"])).stderr).toContain("status: must be one of pending, running, awaiting_approval, blocked, completed, failed, cancelled");
    // Its steps' tasks each have a task document in the agent's drive.
    const json = JSON.parse((await agent.cliAsync(["pipeline", "show", id, "--json"])).stdout) as PipelineJson;
    expect(json.steps.every((s) => typeof s.task?.source?.documentId === "string")).toBe(true);
  });

  it("pipeline logs prints each step's output under its header; --follow streams the steps as they run and exits as the pipeline ends", async () => {
    const slow = (name: string, code = 0) => ({ type: "cli", title: name, command: process.execPath, args: ["-e", `console.log(${JSON.stringify(`${name} says hi`)}); setTimeout(() => { console.log(${JSON.stringify(`${name} done`)}); process.exit(${code}); }, 700)`], maxAttempts: 1 });
    const sent = await agent.cliAsync(["pipeline", "run", JSON.stringify({ title: "logged", steps: [{ name: "build", task: slow("build") }, { name: "check", after: ["build"], task: slow("check", 3) }, { name: "ship", after: ["check"], task: slow("ship") }] }), "--json"]);
    const id = (JSON.parse(sent.stdout) as { id: string }).id;
    // Started at once (the first step may have ended by the time the command runs): it takes each step in turn.
    const followed = await agent.cliAsync(["pipeline", "logs", id, "--follow"]);
    // A step still running when reached is streamed, one that has ended is read from the store: the same text either way.
    expect(followed.stdout).toMatch(/^==> build: (running|completed) <==\nbuild says hi\nbuild done\n==> check: (running|failed) <==\ncheck says hi\ncheck done\n==> ship: cancelled <==\n$/);
    expect(followed.stderr).toContain("[ph-tasks] pipeline failed");
    expect(followed.status).toBe(1);
    const stored = await agent.cliAsync(["pipeline", "logs", id]);
    expect(stored.status).toBe(0);
    expect(stored.stdout).toBe("==> build: completed <==\nbuild says hi\nbuild done\n==> check: failed <==\ncheck says hi\ncheck done\n==> ship: cancelled <==\n");
    const missing = await agent.cliAsync(["pipeline", "logs", "nope"]);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain("no pipeline with id or name 'nope'");
  });

  it("a failing step: run --wait exits 1 naming it; a bad file is a usage error (2) naming the field", async () => {
    const failing = JSON.stringify({ title: "breaks", steps: [{ name: "build", task: cliStep("build", 5) }, { name: "ship", after: ["build"], task: cliStep("ship") }] });
    const run = await agent.cliAsync(["pipeline", "run", failing, "--wait"]);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/build: failed \(exit_code: /);
    expect(run.stdout).toMatch(/ship: cancelled \(dependency_failed: /);
    const bad = await agent.cliAsync(["pipeline", "run", JSON.stringify({ title: "x", steps: [{ name: "a", after: ["b"], task: cliStep("a") }] })]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("steps.0.after.0: names no step of this pipeline");
    const notJson = await agent.cliAsync(["pipeline", "run", "{"]);
    expect([notJson.status, notJson.stderr]).toEqual([2, expect.stringContaining("pipeline run: the request is not valid JSON")]);
  });

  it("webhook add --on pipeline.failed: the failed pipeline is POSTed with its steps; webhook deliveries names the pipeline", async () => {
    const receiver = await startReceiver();
    try {
      expect((await agent.cliAsync(["webhook", "add", "releases", "--to", receiver.url, "--on", "pipeline.failed,pipeline.completed"])).stdout).toContain("on pipeline.failed, pipeline.completed");
      const run = await agent.cliAsync(["pipeline", "run", JSON.stringify({ title: "breaks again", steps: [{ name: "build", task: cliStep("build", 4) }, { name: "ship", after: ["build"], task: cliStep("ship") }] }), "--wait"]);
      expect(run.status).toBe(1);
      const id = /^pipeline (\S+): 2 step\(s\)/m.exec(run.stdout)?.[1] ?? "";
      const delivery = await waitFor(() => receiver.received.find((r) => r.json.pipeline?.id === id), 15_000, "the pipeline's end POSTed");
      expect(delivery.json.event).toBe("pipeline.failed");
      expect(delivery.json.pipeline).toMatchObject({ title: "breaks again", origin: "api", status: "failed", steps: [{ name: "build", status: "failed" }, { name: "ship", status: "cancelled" }] });
      const listed = await waitFor(async () => { const out = (await agent.cliAsync(["webhook", "deliveries", "releases"])).stdout; return out.includes("delivered") ? out : undefined; }, 10_000, "the delivery recorded");
      expect(listed).toMatch(new RegExp(`delivered\\s+pipeline\\.failed\\s+pipeline ${id}`));
      expect((await agent.cliAsync(["webhook", "rm", "releases"])).status).toBe(0);
    } finally {
      await receiver.close();
    }
  });
});
