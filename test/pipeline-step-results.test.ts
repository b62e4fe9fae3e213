/**
 * A step's result handed to the steps after it (`{{steps.<name>.result.<path>}}`,
 * `{{steps.<name>.json.<path>}}`): refused where the policy decides or for a step not waited for,
 * naming the field; filled when the step runs, on PGlite and PostgreSQL with real processes — as
 * arguments, stdin and a variable —, through a named template too; a path the result lacks fails
 * the step naming what it has; the stored task keeps what was written; a step held by a failed one
 * reads the result of its retry.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createApp, listen } from "../src/http/server.js";
import { silentLogger } from "../src/logger.js";
import { fillStepResults, stepReferenceProblems, type StepResultSource } from "../src/pipelines/step-results.js";
import type { PipelineRow } from "../src/store/sql/pipelines/pipeline-row.js";
import type { TaskStore } from "../src/store/task-store.js";
import { TemplateStore } from "../src/store/template-store.js";
import { TemplateService } from "../src/templates/template-service.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import type { Task } from "../src/tasks/types.js";
import { cliRegistry, testManager } from "./support/manager.js";
import { executeTask, type ExecuteTaskContext } from "../src/tasks/execute-task.js";
import { waitFor } from "./support/process.js";
import { BACKENDS } from "./support/stores.js";

const dir = mkdtempSync(path.join(tmpdir(), "ph-step-results-"));
const node = (title: string, script: string, args: string[] = [], extra: Record<string, unknown> = {}) => ({ type: "cli", title, command: process.execPath, args: ["-e", script, ...args], maxAttempts: 1, ...extra });
/** A step that writes its arguments (after the script), its stdin and $RELEASE to `file`, as JSON. */
const recorder = (file: string, args: string[], extra: Record<string, unknown> = {}) =>
  node("record", `let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => require("fs").writeFileSync(${JSON.stringify(file)}, JSON.stringify({ argv: process.argv.slice(1), stdin: s, release: process.env.RELEASE ?? null })))`, args, extra);
/** A step that exits 3 until `flag` exists, then prints {"build": 7}. */
const probe = (flag: string) => node("probe", `if (!require("fs").existsSync(process.argv[1])) process.exit(3); console.log(JSON.stringify({ build: 7 }))`, [flag]);

describe("step references, checked when a pipeline is asked for", () => {
  const steps = [
    { name: "build", task: { type: "cli", command: "make", args: [] } },
    { name: "test", after: ["build"], task: { type: "cli", command: "make", args: ["{{steps.build.result.stdout}}"] } },
    { name: "lint", after: ["build"], task: { type: "cli", command: "{{steps.build.result.stdout}}", args: ["{{steps.test.result.stdout}}", "{{steps.build}}"] } },
    { name: "ship", after: ["test"], task: { type: "cli", command: "make", args: ["{{steps.build.json.version}}"], workingDirectory: "/tmp/{{steps.test.result.stdout}}", input: "{{ steps.test.result }}" } },
  ];
  it("names each field: not where the policy decides, only steps waited for (directly or not), only well-formed ones", () => {
    const problems = stepReferenceProblems(steps, (i) => `steps.${i}.task`);
    expect(problems.map((p) => `${p.field}: ${p.message}`)).toEqual([
      "steps.2.task.command: may not hold a step's result (the policy decides on it before anything runs): only instructions, input, prompt, an element of args or a value of environment may",
      "steps.2.task.args.0: names step 'test', which this step does not wait for (add it to after; it waits for build)",
      "steps.2.task.args.1: is not a step reference: write {{steps.<name>.result.<path>}} or {{steps.<name>.json.<path>}}",
      "steps.3.task.workingDirectory: may not hold a step's result (the policy decides on it before anything runs): only instructions, input, prompt, an element of args or a value of environment may",
    ]);
  });
});

describe("filling step references", () => {
  const pipeline: PipelineRow = {
    id: "p1", title: "p", origin: "api", idempotency_key: null, created_at: new Date(), announced_status: null, written_status: null, task_ids: ["t-build", "t-ship"],
    steps: [{ name: "build", taskId: "t-build", after: [] }, { name: "ship", taskId: "t-ship", after: ["build"] }],
  };
  const source = (result: unknown, status = "completed"): StepResultSource => ({
    pipeline: (id) => Promise.resolve(id === "p1" ? pipeline : undefined),
    results: (ids) => Promise.resolve(new Map(ids.includes("t-build") ? [["t-build", { status, result }]] : [])),
  });
  const task = (fields: Record<string, unknown>, id = "t-ship") => ({ id, type: "cli", tags: ["pipeline:p1"], createdAt: new Date(0), ...fields }) as unknown as Task;

  it("text without its trailing line ends, numbers as text, the rest as JSON; stdout read as JSON", async () => {
    const filled = await fillStepResults(task({ args: ["{{steps.build.result.stdout}}", "code={{steps.build.result.exitCode}}", "{{steps.build.json.files}}", "{{steps.build.json}}"], input: "{{steps.build.result.stdout}}", environment: { V: "{{steps.build.json.version}}" }, command: "{{steps.build.result.stdout}}" }), source({ stdout: '{"version":"1.2","files":["a"]}\n\n', exitCode: 0 }));
    expect(filled).toEqual({ task: expect.objectContaining({ args: ['{"version":"1.2","files":["a"]}', "code=0", '["a"]', '{"version":"1.2","files":["a"]}'], input: '{"version":"1.2","files":["a"]}', environment: { V: "1.2" }, command: "{{steps.build.result.stdout}}", createdAt: new Date(0) }) });
  });

  it("fails the step naming the path and what the result has; stdout that is not JSON; a step's task not of the pipeline is left as written", async () => {
    expect(await fillStepResults(task({ args: ["{{steps.build.result.version}}"] }), source({ stdout: "x", exitCode: 0 }))).toEqual({ error: { kind: "fatal", code: "step_result_missing", message: "args.0: {{steps.build.result.version}}: step build's result has no version (it has: stdout, exitCode)" } });
    const notJson = await fillStepResults(task({ prompt: "use {{steps.build.json.v}}" }), source({ stdout: "1.2.3\n" }));
    expect(notJson).toEqual({ error: expect.objectContaining({ code: "step_result_missing", message: expect.stringMatching(/^prompt: \{\{steps\.build\.json\.v\}\}: step build's stdout is not JSON \(/) as string }) });
    // Only the result's own fields: an inherited name is a path it lacks, not a function turned to text.
    expect(await fillStepResults(task({ args: ["{{steps.build.result.constructor}}"] }), source({ stdout: "x" }))).toEqual({ error: expect.objectContaining({ code: "step_result_missing", message: "args.0: {{steps.build.result.constructor}}: step build's result has no constructor (it has: stdout)" }) });
    const stranger = task({ args: ["{{steps.build.result.stdout}}"] }, "t-other");
    expect(await fillStepResults(stranger, source({ stdout: "secret" }))).toEqual({ task: stranger });
  });

  it("a store that cannot be read fails the attempt as retryable, naming why (the task is not left running)", async () => {
    const unreachable: StepResultSource = { pipeline: () => Promise.reject(new Error("connection terminated")), results: () => Promise.resolve(new Map()) };
    // Only what an attempt reads before the run: the registry, and where the step results come from.
    const ctx = { registry: cliRegistry(), logger: silentLogger(), workerId: "w", abandonAfterMs: undefined, onOutput: () => undefined, onProgress: () => undefined, stepResults: unreachable } as unknown as ExecuteTaskContext;
    const outcome = await executeTask(ctx, task({ command: "echo", args: ["{{steps.build.result.stdout}}"] }), new AbortController(), 1);
    expect(outcome).toEqual({ status: "failed", durationMs: 0, error: { kind: "retryable", code: "step_results_unavailable", message: "reading the results of the steps it waits for failed: connection terminated" } });
  });
});

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`step results on ${backend.name}`, () => {
    const withAgent = (test: (ctx: { call: (method: string, route: string, body?: unknown) => Promise<{ status: number; body: Record<string, unknown> }>; manager: TaskManager; store: TaskStore }) => Promise<void>) => async () => {
      const { store, cleanup } = await backend.open();
      const manager = testManager(store, { maxPerDocument: 5 });
      const templates = new TemplateService(new TemplateStore(store.db), manager.registry);
      const { server, url } = await listen(createApp({ manager, metrics: manager.metrics!, logger: silentLogger(), templates }), "127.0.0.1", 0, undefined);
      await manager.start();
      const call = async (method: string, route: string, body?: unknown) => {
        const res = await fetch(`${url}${route}`, { method, headers: { "Content-Type": "application/json" }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };
      try {
        await test({ call, manager, store });
      } finally {
        await manager.stop(0);
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        await cleanup();
      }
    };
    const settled = async (call: (method: string, route: string) => Promise<{ body: Record<string, unknown> }>, id: string) =>
      waitFor(async () => {
        const pipeline = (await call("GET", `/api/pipelines/${id}`)).body.pipeline as { status: string; steps: { name: string; status: string; taskId: string; task: { error?: { code: string; message: string } } }[] };
        return ["completed", "failed", "blocked", "cancelled"].includes(pipeline.status) ? pipeline : undefined;
      }, 20_000, `pipeline ${id} to settle`);

    it("an earlier step's output reaches a later one's arguments, stdin and variable — also through a template — and the stored task keeps the references", withAgent(async ({ call }) => {
      const file = path.join(dir, `record-${backend.name}.json`);
      expect((await call("PUT", "/api/templates/record", { task: recorder(file, ["{{params.label}}", "{{steps.build.json.version}}"], { environment: { RELEASE: "r{{steps.build.json.version}}" }, input: "{{steps.version.result.stdout}}" }) })).status).toBe(201);
      const res = await call("POST", "/api/pipelines", { title: "release", steps: [
        { name: "build", task: node("build", 'console.log(JSON.stringify({ version: "1.2.3", files: ["a.js", "b.js"] }))') },
        { name: "version", after: ["build"], task: node("version", "console.log('v' + process.argv[1] + '\\n')", ["{{steps.build.json.version}}"]) },
        { name: "ship", after: ["version"], task: { template: "record", params: { label: "release of" } } },
      ] });
      expect(res.status).toBe(201);
      const id = (res.body.pipeline as { id: string }).id;
      const pipeline = await settled(call, id);
      expect(pipeline.status).toBe("completed");
      // Arguments after the script: the template's parameter, a value read as JSON; stdin: version's
      // stdout without its trailing line ends; the variable filled inside a longer text.
      expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ argv: ["release of", "1.2.3"], stdin: "v1.2.3", release: "r1.2.3" });
      const ship = (await call("GET", `/api/tasks/${pipeline.steps[2]!.taskId}`)).body.task as { args: string[]; input: string };
      expect(ship.args.slice(2)).toEqual(["release of", "{{steps.build.json.version}}"]);
      expect(ship.input).toBe("{{steps.version.result.stdout}}");
    }));

    it("a path the result lacks fails the step, naming what it has", withAgent(async ({ call }) => {
      const res = await call("POST", "/api/pipelines", { title: "lacking", steps: [
        { name: "check", task: node("check", "console.log(JSON.stringify({ ready: false }))") },
        { name: "use", after: ["check"], task: recorder(path.join(dir, "never.json"), ["build {{steps.check.json.build}}"]) },
      ] });
      const failed = await settled(call, (res.body.pipeline as { id: string }).id);
      expect(failed.status).toBe("failed");
      expect(failed.steps[1]!.task.error).toMatchObject({ code: "step_result_missing", message: "args.2: {{steps.check.json.build}}: step check's json has no build (it has: ready)" });
    }));

    it("a step held by a failed one (onFailure wait) reads the result of that step's retry", withAgent(async ({ call }) => {
      const flag = path.join(dir, `flag-${backend.name}`);
      const file = path.join(dir, `retried-${backend.name}.json`);
      const res = await call("POST", "/api/pipelines", { title: "held", onFailure: "wait", steps: [{ name: "probe", task: probe(flag) }, { name: "use", after: ["probe"], task: recorder(file, ["build {{steps.probe.json.build}}"]) }] });
      const id = (res.body.pipeline as { id: string }).id;
      expect((await settled(call, id)).status).toBe("blocked");
      writeFileSync(flag, "");
      expect((await call("POST", `/api/pipelines/${id}/retry`)).status).toBe(200);
      expect((await settled(call, id)).status).toBe("completed");
      expect((JSON.parse(readFileSync(file, "utf8")) as { argv: string[] }).argv).toEqual(["build 7"]);
    }));

    it("refused before anything is stored: a reference in the command, to a step not waited for", withAgent(async ({ call, store }) => {
      const res = await call("POST", "/api/pipelines", { title: "bad", steps: [
        { name: "a", task: node("a", "console.log('x')") },
        { name: "b", task: { type: "cli", title: "b", command: "{{steps.a.result.stdout}}" } },
        { name: "c", after: ["b"], task: node("c", "", ["{{steps.a.result.stdout}}"]) },
      ] });
      expect(res.status).toBe(400);
      expect((res.body.errors as { field: string }[]).map((e) => e.field)).toEqual(["steps.1.task.command", "steps.2.task.args.2"]);
      expect((await store.db.query("SELECT 1 FROM ph_tasks")).rows).toHaveLength(0);
      expect((await store.db.query("SELECT 1 FROM ph_pipelines")).rows).toHaveLength(0);
    }));
  });
}
