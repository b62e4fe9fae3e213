/**
 * Pipeline templates through `ph-tasks serve` (embedded store, real step processes): a template whose
 * task is `{ "pipeline": {...} }`, checked whole when saved; run with parameters from the CLI
 * (`pipeline run --template --param --wait`) and the API (its title and idempotency key laid over
 * it); named by an inbound hook (filled from each delivery) and a schedule (checked when saved);
 * every refusal names its field — a parameter missing, a task template where a pipeline's is
 * wanted and the other way round, a broken pipeline in the template.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signBody } from "../src/hooks/signing.js";
import { AgentProcess, freshFetch } from "./support/agent-process.js";
import { waitFor } from "./support/process.js";

const cwd = mkdtempSync(path.join(tmpdir(), "ph-pipeline-templates-"));
const shipped = path.join(cwd, "shipped.txt");
const step = (title: string, script: string, args: string[] = []) => ({ type: "cli", title, command: process.execPath, args: ["-e", script, ...args], maxAttempts: 1 });
/** build prints "built <version>"; ship appends "<version>: <build's output>" to shipped.txt. */
const release = {
  pipeline: {
    title: "release {{params.version}}",
    steps: [
      { name: "build", task: step("build {{params.version}}", "console.log('built ' + process.argv[1])", ["{{params.version}}"]) },
      { name: "ship", after: ["build"], task: step("ship", "require('fs').appendFileSync(process.argv[1], process.argv[2] + ': ' + process.argv[3] + '\\n')", [shipped, "{{params.version}}", "{{steps.build.result.stdout}}"]) },
    ],
  },
};

describe("pipeline templates, against a running agent", () => {
  let agent: AgentProcess;
  let url: string;
  const call = async (method: string, route: string, body?: unknown) => {
    const res = await freshFetch(`${url}${route}`, { method, headers: { "Content-Type": "application/json" }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const fields = (body: Record<string, unknown>) => (body.errors as { field: string; message: string }[]).map((e) => `${e.field}: ${e.message}`);
  const settled = (id: string) =>
    waitFor(async () => {
      const pipeline = (await call("GET", `/api/pipelines/${id}`)).body.pipeline as { status: string; title: string };
      return ["completed", "failed", "blocked", "cancelled"].includes(pipeline.status) ? pipeline : undefined;
    }, 20_000, `pipeline ${id} to end`);

  beforeAll(async () => {
    agent = new AgentProcess(cwd, { TASK_SHUTDOWN_GRACE_MS: "100", TASK_ALLOWED_ROOTS: cwd });
    url = await agent.url;
  });
  afterAll(async () => {
    await agent.stop("SIGKILL");
  });

  it("saved from the CLI and listed as a pipeline; run with --param --wait; run again through the API with its own title and key", async () => {
    const put = await agent.cliAsync(["template", "put", "release", "--task", JSON.stringify(release), "--description", "build and ship a version"]);
    expect([put.status, put.stderr]).toEqual([0, ""]);
    expect((await agent.cliAsync(["template", "list"])).stdout).toContain("release  pipeline: release {{params.version}}  params: version");
    expect(((await call("GET", "/api/templates/release")).body.template as { kind: string }).kind).toBe("pipeline");

    const run = await agent.cliAsync(["pipeline", "run", "--template", "release", "--param", "version=2.0", "--wait"]);
    expect([run.status, run.stderr]).toEqual([0, ""]);
    expect(run.stdout).toMatch(/^ship: completed$/m);
    expect(run.stdout).toMatch(/ {2}completed {2}release 2\.0\n/);
    expect(readFileSync(shipped, "utf8")).toBe("2.0: built 2.0\n");

    const body = { template: "release", params: { version: "3.0" }, title: "hotfix 3.0", idempotencyKey: "release-3.0" };
    const first = await call("POST", "/api/pipelines", body);
    expect(first.status).toBe(201);
    const id = (first.body.pipeline as { id: string }).id;
    const again = await call("POST", "/api/pipelines", body);
    expect([again.status, (again.body.pipeline as { id: string }).id, again.body.created]).toEqual([200, id, false]);
    expect(await settled(id)).toMatchObject({ status: "completed", title: "hotfix 3.0" });
    expect(readFileSync(shipped, "utf8")).toBe("2.0: built 2.0\n3.0: built 3.0\n");
  });

  it("refusals name the field: a parameter missing, the wrong kind of template either way, a broken pipeline, a pipeline beside other fields, --template with a file", async () => {
    await call("PUT", "/api/templates/release", { task: release });
    expect((await call("PUT", "/api/templates/greet", { task: step("greet", "console.log('hi')") })).status).toBe(201);
    const missing = await call("POST", "/api/pipelines", { template: "release" });
    expect([missing.status, fields(missing.body)]).toEqual([400, ["params.version: is used by template 'release' and missing"]]);
    const taskTemplate = await agent.cliAsync(["pipeline", "run", "--template", "greet"]);
    expect(taskTemplate.stderr).toContain('template: names a task template: a pipeline template\'s task is { "pipeline": { title, steps } }');
    const pipelineAsTask = await call("POST", "/api/tasks", { template: "release", params: { version: "1" } });
    expect(fields(pipelineAsTask.body)).toEqual([expect.stringMatching(/^template: names a pipeline template: run it as a pipeline \(POST \/api\/pipelines/)]);

    const broken = { pipeline: { title: "x", steps: [{ name: "a", task: step("a", "") }, { name: "b", after: ["nope"], task: { ...step("b", ""), command: "{{steps.a.result.stdout}}" } }] } };
    const refused = await call("PUT", "/api/templates/broken", { task: broken });
    expect([refused.status, fields(refused.body)]).toEqual([400, ["task.pipeline.steps.1.after.0: names no step of this pipeline (its steps: a, b)"]]);
    const beside = await call("PUT", "/api/templates/beside", { task: { ...release, title: "x" } });
    expect(fields(beside.body)).toEqual(['task.title: not beside "pipeline": a task that makes a pipeline holds only { "pipeline": {...} }']);
    expect((await call("GET", "/api/templates/broken")).status).toBe(404);

    const both = await agent.cliAsync(["pipeline", "run", "--template", "release", "--file", path.join(cwd, "x.json")]);
    expect([both.status, both.stderr.trim()]).toEqual([2, "ph-tasks: give the pipeline as JSON (an argument, --file) or --template <name>, not both"]);
  });

  it("an inbound hook names it, filled from each delivery; a schedule naming it without its parameters is refused when saved", async () => {
    await call("PUT", "/api/templates/release", { task: release });
    const schedule = await call("POST", "/api/schedules", { name: "nightly", cron: "0 3 * * *", task: { pipeline: { template: "release" } } });
    expect([schedule.status, fields(schedule.body)]).toEqual([400, ["task.pipeline.params.version: is used by template 'release' and missing"]]);
    expect((await call("POST", "/api/schedules", { name: "nightly", cron: "0 3 * * *", task: { pipeline: { template: "release", params: { version: "nightly" } } } })).status).toBe(201);

    const hook = await call("POST", "/api/hooks", { name: "tagged", task: { pipeline: { template: "release", params: { version: "{{body.tag}}" } } } });
    expect(hook.status).toBe(201);
    const payload = JSON.stringify({ tag: "4.1" });
    const delivered = await freshFetch(`${url}/hooks/tagged`, { method: "POST", headers: { "Content-Type": "application/json", "X-Signature-256": signBody((hook.body.hook as { secret: string }).secret, payload), "X-Delivery-Id": "tag-4.1" }, body: payload });
    expect(delivered.status).toBe(202);
    const id = ((await delivered.json()) as { pipeline: { id: string } }).pipeline.id;
    expect(await settled(id)).toMatchObject({ status: "completed", title: "release 4.1" });
    expect(readFileSync(shipped, "utf8")).toContain("4.1: built 4.1\n");
  });
});
