/**
 * A trigger rule's single task writes its onResult back to its document once — whoever sees the
 * end first, the worker that ended it or the sweep every agent with rules runs — and the sweep
 * writes the ends no worker wrote back (the one that ended the task stopped first). A retry, by the
 * task's id, writes the next end again; a task whose rule is gone is marked handled, nothing written;
 * a rule without onResult keeps no row. A writer that took an end and stopped before writing it
 * (its lease runs out) or before marking it written (the operation is in the document's history)
 * neither loses the write nor makes it twice. A real reactor, the agent on PGlite, real processes.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { PHDocument } from "document-model";
import { createAction } from "document-model/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAgent, type Agent } from "../src/agent.js";
import { loadConfig } from "../src/config.js";
import { silentLogger } from "../src/logger.js";
import { RulesFileSchema } from "../src/rules/rules-schema.js";
import { dispatch } from "../src/reactor/documents.js";
import { resultActionId } from "../src/rules/result-write-back.js";
import { RuleResultStore } from "../src/store/rule-result-store.js";
import { takeRuleResult } from "../src/store/sql/rules/take-rule-result.js";
import { descriptionWrites, renamedModel } from "./support/model-documents.js";
import { sleep, waitFor } from "./support/process.js";

const node = (title: string, script: string, args: string[] = []) => ({ type: "cli", title, command: process.execPath, args: ["-e", script, ...args], maxAttempts: 1 });
const rules = RulesFileSchema.parse({
  rules: [
    {
      name: "describe",
      on: { documentType: "powerhouse/document-model", operationType: "SET_MODEL_NAME", where: { "input.name": { matches: "^describe-" } } },
      task: node("describe {{input.name}}", "process.stdout.write('described ' + process.argv[1])", ["{{input.name}}"]),
      onResult: { operation: "SET_MODEL_DESCRIPTION", input: { description: "{{task.status}}: {{result.stdout}}{{error.code}}" }, when: ["completed", "failed"] },
    },
    {
      name: "fail",
      on: { documentType: "powerhouse/document-model", operationType: "SET_MODEL_NAME", where: { "input.name": { matches: "^fail-" } } },
      task: node("fail", "process.exit(5)"),
      onResult: { operation: "SET_MODEL_DESCRIPTION", input: { description: "{{task.status}}: {{error.code}}" }, when: ["failed"] },
    },
    {
      name: "quiet",
      on: { documentType: "powerhouse/document-model", operationType: "SET_MODEL_NAME", where: { "input.name": { matches: "^quiet-" } } },
      task: node("quiet", ""),
    },
  ],
}).rules;

const dataDir = mkdtempSync(path.join(tmpdir(), "ph-rule-results-"));

describe("a rule task's end written back to its document", () => {
  let agent: Agent;
  let results: RuleResultStore;
  beforeAll(async () => {
    agent = await startAgent(loadConfig({ TASK_DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "silent", TASK_SHUTDOWN_GRACE_MS: "100" }, dataDir), { logger: silentLogger(), rules, writeBackLeaseMs: 2000 });
    results = new RuleResultStore(agent.store.db);
  });
  afterAll(async () => {
    await agent.stop();
  });

  const renamed = (name: string) => renamedModel(agent, name);
  const description = async (id: string) => ((await agent.reactor.getDocument<PHDocument>(id)).state as unknown as { global: { description: string } }).global.description;
  const writesOf = (id: string) => descriptionWrites(agent, id);
  const writesReach = (id: string, count: number) => waitFor(async () => (await writesOf(id)) >= count || undefined, 30_000, `${count} description writes`);
  const written = async (taskId: string) => (await agent.store.db.query<{ written_status: string | null }>("SELECT written_status FROM ph_rule_results WHERE task_id = $1", [taskId])).rows[0];
  const tasksOf = async (id: string) => (await agent.manager.listTasks({ documentId: id, limit: 10, offset: 0 })).tasks;
  /** Two sweeps (every 2 s) later. */
  const afterSweeps = async () => {
    await sleep(4500);
    await agent.handler.idle();
  };

  it("is written once, by the worker that ended it or the sweep, and its end is marked taken", async () => {
    const id = await renamed("describe-1");
    await writesReach(id, 1);
    expect(await description(id)).toBe("completed: described describe-1");
    const [task] = await tasksOf(id);
    expect(await written(task!.id)).toEqual({ written_status: "completed" });
    await afterSweeps();
    expect(await writesOf(id)).toBe(1);
  });

  it("an end no worker wrote back (the one that ended the task stopped first) is written by the sweep, once", async () => {
    const id = await renamed("draft"); // no rule matches: the task below is made by hand, as the rule would
    const source = { documentId: id, documentType: "powerhouse/document-model", driveId: agent.localDriveId, origin: "rule:describe", operationId: "op", operationType: "SET_MODEL_NAME", chainDepth: 0 };
    const later = new Date(Date.now() + 3_600_000).toISOString(); // not claimed: its end is set below, as a worker would have
    const [stored] = await agent.manager.enqueueTasks([{ ...node("orphan", ""), runAt: later, source }], { within: (tx, rows) => results.insert(tx, rows.map((r) => r.id)) });
    const taskId = stored!.task.id;
    expect(await written(taskId)).toEqual({ written_status: null });
    await agent.store.db.query("UPDATE ph_tasks SET status = 'completed', result = $2::jsonb, finished_at = now() WHERE id = $1", [taskId, JSON.stringify({ stdout: "from the store" })]);
    await writesReach(id, 1);
    expect(await description(id)).toBe("completed: from the store");
    await afterSweeps();
    expect(await writesOf(id)).toBe(1);
    expect(await written(taskId)).toEqual({ written_status: "completed" });
  });

  /** A task of rule "describe" on document `id`, ended in the store and taken for writing by a writer that then stopped (no one writes it). Its id and the end's mark. */
  const takenAndAbandoned = async (id: string, stdout: string, leaseMs: number) => {
    const source = { documentId: id, documentType: "powerhouse/document-model", driveId: agent.localDriveId, origin: "rule:describe", operationId: "op", operationType: "SET_MODEL_NAME", chainDepth: 0 };
    const [stored] = await agent.manager.enqueueTasks([{ ...node("abandoned", ""), runAt: new Date(Date.now() + 3_600_000).toISOString(), source }], { within: (tx, rows) => results.insert(tx, rows.map((r) => r.id)) });
    const taskId = stored!.task.id;
    // Ended and taken in one transaction: the sweep cannot take it in between.
    const mark = await agent.store.db.transaction(async (tx) => {
      await tx.query("UPDATE ph_tasks SET status = 'completed', result = $2::jsonb, finished_at = now() WHERE id = $1", [taskId, JSON.stringify({ stdout })]);
      return takeRuleResult(tx, taskId, "completed", leaseMs);
    });
    expect(mark).toMatch(/^completed@\d{16}$/);
    return { taskId, mark: mark! };
  };

  it("an end taken by a writer that stopped before writing it is written by the sweep once the writer's lease runs out", async () => {
    const id = await renamed("draft-3");
    const { taskId } = await takenAndAbandoned(id, "after the lease", 3000);
    const takenAt = Date.now();
    await sleep(2000); // a sweep came meanwhile: the end is held, not written
    expect(await writesOf(id)).toBe(0);
    expect(await results.unwritten(100)).not.toContain(taskId);
    await writesReach(id, 1);
    expect(Date.now() - takenAt).toBeGreaterThanOrEqual(3000);
    expect(await description(id)).toBe("completed: after the lease");
    await afterSweeps();
    expect(await writesOf(id)).toBe(1);
    expect(await written(taskId)).toEqual({ written_status: "completed" });
  });

  it("an end written by a writer that stopped before marking it is found in the document's history and not written again", async () => {
    const id = await renamed("draft-4");
    const { taskId, mark } = await takenAndAbandoned(id, "written once", 500);
    // What the writer wrote before it stopped: the operation, with the end's action id.
    const action = createAction("SET_MODEL_DESCRIPTION", { description: "completed: written once" }, undefined, undefined, "global");
    action.id = resultActionId(taskId, mark);
    await dispatch(agent.reactor, id, action);
    await waitFor(async () => (await written(taskId))?.written_status === "completed" || undefined, 10_000, "the end marked written");
    await afterSweeps();
    expect(await writesOf(id)).toBe(1);
    // A writer of another end (its mark differs) writes it with another action id.
    expect(resultActionId(taskId, mark.replace(/\d+$/, "1"))).not.toBe(action.id);
  });

  it("retried by its id, the task's next end is written again — the same end included", async () => {
    const id = await renamed("fail-1");
    await writesReach(id, 1);
    expect(await description(id)).toBe("failed: exit_code");
    const [task] = await tasksOf(id);
    expect(await agent.manager.retryTask(task!.id)).toBeDefined();
    await writesReach(id, 2);
    await afterSweeps();
    expect(await writesOf(id)).toBe(2);
    expect(await written(task!.id)).toEqual({ written_status: "failed" });
  });

  it("a task whose rule is gone from the rules file is marked handled by the sweep, nothing written", async () => {
    const id = await renamed("draft-2");
    const source = { documentId: id, documentType: "powerhouse/document-model", origin: "rule:removed-since", operationId: "op", operationType: "SET_MODEL_NAME", chainDepth: 0 };
    const [stored] = await agent.manager.enqueueTasks([{ ...node("orphan", ""), runAt: new Date(Date.now() + 3_600_000).toISOString(), source }], { within: (tx, rows) => results.insert(tx, rows.map((r) => r.id)) });
    await agent.store.db.query("UPDATE ph_tasks SET status = 'failed', finished_at = now() WHERE id = $1", [stored!.task.id]);
    await waitFor(async () => (await written(stored!.task.id))?.written_status === "failed" || undefined, 10_000, "the end marked handled");
    expect(await writesOf(id)).toBe(0);
    expect(await results.unwritten(100)).not.toContain(stored!.task.id);
  });

  it("a rule without onResult keeps no row for its tasks", async () => {
    const id = await renamed("quiet-1");
    const task = await waitFor(async () => (await tasksOf(id)).find((t) => t.status === "completed"), 20_000, "the quiet task to complete");
    await agent.handler.idle();
    expect(await written(task.id)).toBeUndefined();
  });
});
