/**
 * Task types from plugins (TASK_EXECUTOR_PLUGINS) through `ph-tasks serve`: a user's module adds
 * two types that run like the built-in ones — checked by their own schema, retried, capped,
 * logged, counted — and a bad plugin stops start-up naming the plugin and the problem.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { silentLogger } from "../src/logger.js";
import { BUILT_IN_TASK_TYPES, createDefaultRegistry } from "../src/tasks/executors/index.js";
import { loadExecutorPlugins } from "../src/tasks/executors/plugins.js";
import { AgentProcess, freshFetch as fetch } from "./support/agent-process.js";
import { waitFor } from "./support/process.js";

const fixture = (name: string) => path.resolve("test/fixtures/plugins", name);

interface ApiTask { id: string; status: string; attempts: number; priority: number; result: Record<string, unknown> | null; error: { code: string } | null }

describe("executor plugins through ph-tasks serve", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "ph-plugins-"));
  const agent = new AgentProcess(dir, { TASK_EXECUTOR_PLUGINS: fixture("text-tools.mjs"), TASK_RETRY_BASE_MS: "50", TASK_RETRY_MAX_MS: "100", SECRET_FOR_TEST: "do-not-leak", TASK_EXECUTOR_PLUGIN: "misspelt" });
  afterAll(async () => {
    await agent.stop("SIGKILL");
  });

  const post = async (body: unknown) => {
    const res = await fetch(`${await agent.url}/api/tasks`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as { task?: ApiTask; errors?: { field: string; message: string }[] } };
  };
  const finished = (id: string) => waitFor(async () => {
    const task = ((await (await fetch(`${await agent.url}/api/tasks/${id}`)).json()) as { task: ApiTask }).task;
    return ["completed", "failed", "cancelled"].includes(task.status) ? task : undefined;
  }, 30_000, `task ${id}`);

  it("runs a plugin's task type like a built-in one: its schema, its default priority, output, retries", async () => {
    const created = await post({ type: "shout", title: "greet", text: "hello plugins" });
    expect(created.status).toBe(201);
    expect(created.json.task?.priority).toBe(70);
    const done = await finished(created.json.task!.id);
    expect(done).toMatchObject({ status: "completed", attempts: 1, result: { shouted: "HELLO PLUGINS", attempt: 1 } });
    expect((await agent.cli(["logs", done.id])).stdout).toBe("HELLO PLUGINS\n");

    const flaky = await finished((await post({ type: "shout", title: "flaky", text: "fail once", maxAttempts: 2 })).json.task!.id);
    expect(flaky).toMatchObject({ status: "completed", attempts: 2, result: { attempt: 2 } });
    const doomed = await finished((await post({ type: "shout", title: "doomed", text: "fail", maxAttempts: 3 })).json.task!.id);
    expect(doomed).toMatchObject({ status: "failed", attempts: 1, error: { code: "told_to" } });

    const bad = await post({ type: "shout", title: "silent" });
    expect(bad.status).toBe(400);
    expect(bad.json.errors).toEqual([expect.objectContaining({ field: "text" })]);

    // From the CLI: any type as a JSON request.
    const submitted = await agent.cli(["submit", "json", JSON.stringify({ type: "shout", title: "from the cli", text: "cli" }), "--priority", "90"]);
    expect(submitted.status).toBe(0);
    expect(await finished(submitted.stdout.trim())).toMatchObject({ status: "completed", priority: 90, result: { shouted: "CLI" } });
    const refused = await agent.cli(["submit", "json", JSON.stringify({ type: "shout", title: "no text" })]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain("text:");
    const broken = await agent.cli(["submit", "json", "{not json"]);
    expect(broken.status).toBe(2);
    expect(broken.stderr).toContain("submit json: the request is not valid JSON");
  });

  it("warns at start of a variable that looks like a setting but is none, naming the one meant", async () => {
    await agent.url;
    const warning = agent.stdout.split("\n").filter((line) => line.includes("not a setting of this agent"));
    expect(warning).toHaveLength(1);
    expect(JSON.parse(warning[0]!)).toMatchObject({ level: 40, variables: ["TASK_EXECUTOR_PLUGIN"], msg: "not a setting of this agent, ignored: TASK_EXECUTOR_PLUGIN (did you mean TASK_EXECUTOR_PLUGINS?)" });
  });

  it("runs no more of a plugin's type at once than its maxConcurrent", async () => {
    const naps = [];
    for (let i = 0; i < 3; i++) naps.push((await post({ type: "nap", title: `nap ${i}`, ms: 300, source: { documentId: `nap-doc-${i}` } })).json.task!.id);
    for (const id of naps) expect(await finished(id)).toMatchObject({ status: "completed", result: { mostAtOnce: 1 } });
  });

  it("gives a plugin the safe task environment, not the agent's", async () => {
    const done = await finished((await post({ type: "env-names", title: "env" })).json.task!.id);
    const names = (done.result as { names: string[] }).names;
    expect(names).toContain("PATH");
    expect(names).toContain("EXTRA");
    expect(names).not.toContain("SECRET_FOR_TEST");
    expect((done.result as { roots: string[] }).roots).toEqual([dir]);
  });

  it("lists the plugin's types beside the built-in ones in the metrics", async () => {
    const metrics = await (await fetch(`${await agent.url}/metrics`)).text();
    expect(metrics).toMatch(/ph_tasks_queue_depth\{[^}]*type="shout"/);
    expect(metrics).toMatch(/ph_tasks_queue_depth\{[^}]*type="env-names"/);
  });
});

describe("a bad plugin stops start-up, naming it", () => {
  it("exits 2 with every problem: a module that cannot be found or throws, no factory, a bad executor, a type that exists", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "ph-plugins-bad-"));
    const plugins = ["./missing-plugin.mjs", fixture("throws.mjs"), fixture("no-factory.mjs"), fixture("bad-executor.mjs"), fixture("takes-cli.mjs")];
    const run = spawnSync(process.execPath, [path.resolve("bin/ph-tasks.js"), "serve"], { cwd: dir, encoding: "utf8", timeout: 60_000, env: { ...process.env, PORT: "0", TASK_EXECUTOR_PLUGINS: plugins.join(",") } });
    expect(run.status).toBe(2);
    const lines = run.stderr.split("\n").filter((l) => l.includes("TASK_EXECUTOR_PLUGINS"));
    expect(lines).toHaveLength(8);
    const [missing, throws, noFactory, badExecutor, takesCli] = plugins;
    expect(run.stderr).toMatch(/TASK_EXECUTOR_PLUGINS: \.\/missing-plugin\.mjs: could not be loaded: Cannot find module .*missing-plugin\.mjs/);
    expect(missing).toBe("./missing-plugin.mjs");
    expect(run.stderr).toContain(`TASK_EXECUTOR_PLUGINS: ${throws}: could not be loaded: missing licence key\n`);
    expect(run.stderr).toContain(`TASK_EXECUTOR_PLUGINS: ${noFactory}: the module's default export must be a function (context) => executor(s)\n`);
    expect(run.stderr).toContain(`TASK_EXECUTOR_PLUGINS: ${badExecutor}: type: must be lower-case letters, digits and dashes (e.g. 'cli') (got "Bad Type")\n`);
    expect(run.stderr).toContain(`TASK_EXECUTOR_PLUGINS: ${badExecutor}: requestSchema: must be a zod schema (build it with the context's z) (got {})\n`);
    expect(run.stderr).toContain(`TASK_EXECUTOR_PLUGINS: ${badExecutor}: execute: must be a function (task, ctx) => Promise<result object>\n`);
    expect(run.stderr).toContain(`TASK_EXECUTOR_PLUGINS: ${badExecutor}: defaultPriority: Too big: expected number to be <=100 (got 500)\n`);
    expect(run.stderr).toContain(`TASK_EXECUTOR_PLUGINS: ${takesCli}: task type 'cli' exists already (the agent has cli, claude-code, claude-agent, approval)\n`);
    expect(run.stderr).not.toMatch(/dashboard http/); // nothing started
  });

  it("may not take the type a task document names to ask for a pipeline", async () => {
    const loading = loadExecutorPlugins([fixture("takes-pipeline.mjs")], { allowedRoots: ["/tmp"], logger: silentLogger() }, BUILT_IN_TASK_TYPES);
    await expect(loading).rejects.toThrow(`${fixture("takes-pipeline.mjs")}: task type 'pipeline' is reserved: a task document of that type asks for a pipeline`);
  });

  it("knows the built-in types a plugin may not take", () => {
    expect(createDefaultRegistry(loadConfig({}, "/tmp")).types()).toEqual([...BUILT_IN_TASK_TYPES].sort());
  });

  it("hands the manager a plugin's cap on its type (maxConcurrent)", async () => {
    const loaded = await loadExecutorPlugins([fixture("text-tools.mjs")], { allowedRoots: ["/tmp"], logger: silentLogger() }, BUILT_IN_TASK_TYPES);
    expect(loaded.executors.map((e) => e.type)).toEqual(["shout", "env-names", "nap"]);
    expect(loaded.typeConcurrency).toEqual({ shout: 1, nap: 1 });
  });
});
