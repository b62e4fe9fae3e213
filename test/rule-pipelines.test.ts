/**
 * Trigger rules that make pipelines, end to end: a real reactor, the agent on PGlite, real step
 * processes. A document's operation starts a pipeline whose steps are linked to the document (no
 * task documents), hand results on, and — once every step has ended — write the rule's onResult
 * back once, with the pipeline's status and each step's result; a failure writes its own; a
 * pipeline the request checks refuse is logged and nothing is stored; an end no worker wrote back
 * (its worker stopped) is written by the sweep; a rules file with a bad task is refused naming the field.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { PHDocument } from "document-model";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAgent, type Agent } from "../src/agent.js";
import { loadConfig } from "../src/config.js";
import { createLogger } from "../src/logger.js";
import { RulesFileSchema } from "../src/rules/rules-schema.js";
import { descriptionWrites, renamedModel } from "./support/model-documents.js";
import { sleep, waitFor } from "./support/process.js";

const node = (title: string, script: string, args: string[] = []) => ({ type: "cli", title, command: process.execPath, args: ["-e", script, ...args], maxAttempts: 1 });
const rules = RulesFileSchema.parse({
  rules: [
    {
      name: "ship-on-rename",
      on: { documentType: "powerhouse/document-model", operationType: "SET_MODEL_NAME", where: { "input.name": { matches: "^ship-" } } },
      task: {
        pipeline: {
          title: "ship {{input.name}}",
          steps: [
            { name: "build", task: node("build {{input.name}}", "process.stdout.write('built ' + process.argv[1])", ["{{input.name}}"]) },
            { name: "check", after: ["build"], task: node("check", "process.stdout.write('checked')") },
            { name: "publish", after: ["build", "check"], task: node("publish", "process.stdout.write(process.argv[1] + ', published')", ["{{steps.build.result.stdout}}"]) },
          ],
        },
      },
      onResult: { operation: "SET_MODEL_DESCRIPTION", input: { description: "{{pipeline.status}}: {{result.publish.stdout}} ({{pipeline.steps.check.result.stdout}})" }, when: ["completed", "failed"] },
    },
    {
      name: "break-on-rename",
      on: { documentType: "powerhouse/document-model", operationType: "SET_MODEL_NAME", where: { "input.name": { matches: "^break-" } } },
      task: { pipeline: { title: "break", steps: [{ name: "fail", task: node("fail", "process.exit(5)") }, { name: "after", after: ["fail"], task: node("after", "") }] } },
      onResult: { operation: "SET_MODEL_DESCRIPTION", input: { description: "{{pipeline.status}}: {{error.code}}, after {{pipeline.steps.after.status}}" }, when: ["failed"] },
    },
    {
      name: "template-on-rename",
      on: { documentType: "powerhouse/document-model", operationType: "SET_MODEL_NAME", where: { "input.name": { matches: "^tpl-" } } },
      task: { pipeline: { template: "tag-release", params: { version: "{{input.name}}" } } },
      onResult: { operation: "SET_MODEL_DESCRIPTION", input: { description: "{{pipeline.status}}: {{result.tag.stdout}}" } },
    },
    {
      name: "pipeline-loop",
      on: { documentType: "powerhouse/document-model", operationType: "SET_MODEL_NAME", where: { "input.name": { matches: "^ploop" } } },
      task: { pipeline: { title: "loop {{input.name}}", steps: [{ name: "a", task: node("a", "process.stdout.write(process.argv[1] + 'x')", ["{{input.name}}"]) }] } },
      onResult: { operation: "SET_MODEL_NAME", input: { name: "{{result.a.stdout}}" } },
    },
    {
      name: "refused-on-rename",
      on: { documentType: "powerhouse/document-model", operationType: "SET_MODEL_NAME", where: { "input.name": { matches: "^refused-" } } },
      task: { pipeline: { title: "refused", steps: [{ name: "a", task: node("a", "") }, { name: "b", task: { ...node("b", ""), command: "{{steps.a.result.stdout}}" } }] } },
    },
  ],
}).rules;

const dataDir = mkdtempSync(path.join(tmpdir(), "ph-rule-pipelines-"));
const logged: Record<string, unknown>[] = [];
const logger = createLogger({ level: "warn", destination: { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) } });

describe("trigger rules that make pipelines", () => {
  let agent: Agent;
  beforeAll(async () => {
    agent = await startAgent(loadConfig({ TASK_DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "warn", TASK_SHUTDOWN_GRACE_MS: "100", TASK_MAX_CHAIN_DEPTH: "2" }, dataDir), { logger, rules });
  });
  afterAll(async () => {
    await agent.stop();
  });

  const renamed = (name: string) => renamedModel(agent, name);
  const described = (id: string) =>
    waitFor(async () => {
      const doc = await agent.reactor.getDocument<PHDocument>(id);
      return (doc.state as unknown as { global: { description: string } }).global.description || undefined;
    }, 30_000, "the document's description");
  const writesOf = (id: string) => descriptionWrites(agent, id);

  it("an operation starts the pipeline; its steps are linked to the document and hand results on; the end is written back once", async () => {
    const id = await renamed("ship-1.4");
    expect(await described(id)).toBe("completed: built ship-1.4, published (checked)");
    const { tasks } = await agent.manager.listTasks({ documentId: id, limit: 10, offset: 0 });
    expect(tasks.map((t) => t.title).sort()).toEqual(["build ship-1.4", "check", "publish"]);
    expect(tasks.every((t) => t.source?.origin === "rule:ship-on-rename" && t.source.documentType === "powerhouse/document-model")).toBe(true);
    const { pipelines } = (await (await fetch(`${agent.url}/api/pipelines`)).json()) as { pipelines: { title: string; origin: string; idempotencyKey: string }[] };
    expect(pipelines.find((p) => p.title === "ship ship-1.4")).toMatchObject({ origin: "rule:ship-on-rename", idempotencyKey: expect.stringMatching(new RegExp(`^rule:ship-on-rename:${id}:`)) as string });
    await agent.handler.idle();
    await sleep(300);
    expect(await writesOf(id)).toBe(1);
  });

  it("a rule naming a pipeline template: the template's steps are linked to the document too, and the end is written back", async () => {
    const put = await fetch(`${agent.url}/api/templates/tag-release`, { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ task: { pipeline: { title: "tag {{params.version}}", steps: [{ name: "tag", task: node("tag {{params.version}}", "process.stdout.write('tagged ' + process.argv[1])", ["{{params.version}}"]) }] } } }) });
    expect(put.status).toBe(201);
    const id = await renamed("tpl-2.0");
    expect(await described(id)).toBe("completed: tagged tpl-2.0");
    const { tasks } = await agent.manager.listTasks({ documentId: id, limit: 10, offset: 0 });
    expect(tasks.map((t) => [t.title, t.source?.origin])).toEqual([["tag tpl-2.0", "rule:template-on-rename"]]);
  });

  it("a failed step: the rule's failure mapping is written once the steps after it are cancelled", async () => {
    const id = await renamed("break-1");
    expect(await described(id)).toBe("failed: exit_code, after cancelled");
    await agent.handler.idle();
    expect(await writesOf(id)).toBe(1);
  });

  it("a step retried by its own id (not through its pipeline) writes the pipeline's end again; a task tagged with the pipeline by hand does not", async () => {
    const id = await renamed("break-2");
    expect(await described(id)).toBe("failed: exit_code, after cancelled");
    await agent.handler.idle();
    const [pipeline] = (await agent.pipelines.list(50, 0)).filter((p) => p.steps.some((s) => s.task?.source?.documentId === id));
    const written = async () => (await agent.store.db.query<{ written_status: string | null }>("SELECT written_status FROM ph_pipelines WHERE id = $1", [pipeline!.id])).rows[0]?.written_status;
    expect(await written()).toBe("failed");
    // Not one of its steps: retrying it leaves the pipeline's end as written.
    const { task: stray } = await agent.manager.enqueueTask({ ...node("stray", "process.exit(5)"), tags: [`pipeline:${pipeline!.id}`] });
    await waitFor(async () => (await agent.manager.getTask(stray.id))?.status === "failed" || undefined, 20_000, "the stray task to fail");
    expect(await agent.manager.retryTask(stray.id)).toBeDefined();
    expect(await written()).toBe("failed");
    // Its step "fail", retried by id: it fails again, and the end is written back a second time.
    const failStep = pipeline!.steps.find((s) => s.name === "fail")!.taskId;
    expect(await agent.manager.retryTask(failStep)).toBeDefined();
    await waitFor(async () => (await writesOf(id)) === 2 || undefined, 30_000, "the end written again");
    await agent.handler.idle();
    await sleep(300);
    expect(await writesOf(id)).toBe(2);
    expect(await written()).toBe("failed");
  });

  it("a pipeline whose result triggers its own rule again stops at TASK_MAX_CHAIN_DEPTH, logged", async () => {
    const id = await renamed("ploop");
    const entry = await waitFor(() => logged.find((l) => l.rule === "pipeline-loop" && l.documentId === id), 30_000, "the chain cut");
    expect(entry.msg).toContain("a trigger rule's pipeline was not started: a chain of 3 tasks triggered by task results exceeds TASK_MAX_CHAIN_DEPTH=2");
    await agent.handler.idle();
    const doc = await agent.reactor.getDocument<PHDocument>(id);
    expect((doc.state as unknown as { global: { name: string } }).global.name).toBe("ploopxxx"); // depths 0, 1, 2 ran
    expect((await agent.manager.listTasks({ documentId: id, limit: 10, offset: 0 })).tasks).toHaveLength(3);
  });

  it("a pipeline the checks refuse is logged with the field, and nothing is stored", async () => {
    const id = await renamed("refused-1");
    const entry = await waitFor(() => logged.find((l) => l.rule === "refused-on-rename"), 20_000, "the refusal logged");
    expect(entry.msg).toContain("a trigger rule's pipeline was refused: steps.1.task.command: may not hold a step's result");
    expect((await agent.manager.listTasks({ documentId: id, limit: 10, offset: 0 })).tasks).toHaveLength(0);
  });

  it("an end no worker wrote back (the one that ended the last step stopped first) is written by the sweep", async () => {
    const id = await renamed("draft"); // no rule matches: the pipeline below is made by hand, as a rule would
    const source = { documentId: id, documentType: "powerhouse/document-model", driveId: agent.localDriveId, origin: "rule:ship-on-rename" };
    const later = new Date(Date.now() + 3_600_000).toISOString(); // not claimed: its end is set below, as a worker would have
    const { pipeline } = await agent.pipelines.create({ title: "orphan", steps: ["build", "check", "publish"].map((name) => ({ name, task: { ...node(name, ""), runAt: later, source } })) }, "rule:ship-on-rename");
    for (const [i, step] of pipeline.steps.entries()) {
      await agent.store.db.query("UPDATE ph_tasks SET status = 'completed', result = $2::jsonb, finished_at = now() WHERE id = $1", [step.taskId, JSON.stringify({ stdout: ["b", "c", "p"][i] })]);
    }
    // No worker saw those ends: only the sweep (with the task documents' catch-up, every 2 s) can write it.
    expect(await described(id)).toBe("completed: p (c)");
    await sleep(2500); // another sweep: written once
    expect(await writesOf(id)).toBe(1);
  });

  it("a rules file whose task is neither a task nor a pipeline is refused naming the field", () => {
    const parsed = RulesFileSchema.safeParse({ rules: [{ name: "x", on: { documentType: "d", operationType: "o" }, task: { pipeline: "build" } }] });
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toContain("rules");
  });
});
