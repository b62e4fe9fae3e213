/**
 * A task document that asks for a pipeline (taskType "pipeline", the steps in its params), end to
 * end: a real reactor, the agent on PGlite, real step processes. The document follows the pipeline —
 * queued, running, then completed with each step's status and result, or failed with the failed
 * step's error —, its steps get no task documents of their own, a repeated request makes no second
 * pipeline, cancel from the document kills the running step, a refused pipeline is refused on the
 * document naming the field, a blocked one says so in a notice, and a pipeline template may be named.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Operation, PHDocument } from "document-model";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAgent, type Agent } from "../src/agent.js";
import { loadConfig } from "../src/config.js";
import { silentLogger } from "../src/logger.js";
import { addTaskDocument, dispatch, getTaskDocumentState, removeDocument, type NewTaskDocument } from "../src/reactor/documents.js";
import { createReactor } from "../src/reactor/reactor-setup.js";
import { actions } from "../src/reactor/task-document/actions.js";
import type { TaskDocumentState } from "../src/reactor/task-document/state.js";
import { processAlive, readPid, sleep, waitFor } from "./support/process.js";
import { documentReaches } from "./support/task-documents.js";

const dataDir = mkdtempSync(path.join(tmpdir(), "ph-pipeline-documents-"));
const node = (title: string, script: string, args: string[] = []) => ({ type: "cli", title, command: process.execPath, args: ["-e", script, ...args], maxAttempts: 1 });

describe("a task document that asks for a pipeline", () => {
  let agent: Agent;
  const start = () => startAgent(loadConfig({ TASK_DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "silent", TASK_SHUTDOWN_GRACE_MS: "100", TASK_KILL_GRACE_MS: "300" }, dataDir), { logger: silentLogger() });
  beforeAll(async () => {
    agent = await start();
  });
  afterAll(async () => {
    await agent.stop();
  });

  const ask = (title: string, params: NewTaskDocument["spec"]["params"]) => addTaskDocument(agent.reactor, agent.localDriveId, { spec: { title, taskType: "pipeline", params }, requestRun: true });
  const reaches = (id: string, statuses: string[]) => documentReaches(agent.reactor, id, statuses);
  const operationTypes = async (id: string) => ((await agent.reactor.getDocument<PHDocument>(id)).operations.global ?? []).map((op: Operation) => op.action.type);
  const driveNodes = async () => (await agent.reactor.getDrive(agent.localDriveId)).state.global.nodes.length;
  /** Counts the reads of document `id` until stop() (which returns the count). */
  const readsOf = (id: string) => {
    const original = agent.reactor.getDocument.bind(agent.reactor);
    let count = 0;
    agent.reactor.getDocument = ((documentId: string, ...rest: unknown[]) => {
      if (documentId === id) count++;
      return (original as (...args: unknown[]) => unknown)(documentId, ...rest);
    }) as typeof agent.reactor.getDocument;
    return {
      stop: () => {
        agent.reactor.getDocument = original;
        return count;
      },
    };
  };
  const pipelineOf = async (state: TaskDocumentState) => {
    const res = await fetch(`${agent.url}/api/pipelines/${state.currentTaskId}`);
    return ((await res.json()) as { pipeline: { id: string; origin: string; status: string; steps: { name: string; taskId: string }[] } }).pipeline;
  };

  it("runs the steps, each after the ones it waits for, and ends completed with each step's result; no task document per step", async () => {
    const before = await driveNodes();
    const id = await ask("build and ship", {
      steps: [
        { name: "build", task: node("build", "process.stdout.write('built')") },
        { name: "ship", after: ["build"], task: node("ship", "process.stdout.write(process.argv[1] + ' and shipped')", ["{{steps.build.result.stdout}}"]) },
      ],
    });
    const state = await reaches(id, ["completed", "failed", "cancelled"]);
    expect(state.status).toBe("completed");
    expect(state.result).toMatchObject({ status: "completed", steps: { build: { status: "completed", result: { stdout: "built" } }, ship: { status: "completed", result: { stdout: "built and shipped" } } } });
    // A line per step's start and end, in order, each once.
    expect(state.outputTail).toMatch(/^(\d\d:\d\d:\d\d\.\d\d\d) build: running\n\d\d:\d\d:\d\d\.\d\d\d build: completed\n\d\d:\d\d:\d\d\.\d\d\d ship: running\n\d\d:\d\d:\d\d\.\d\d\d ship: completed\n$/);
    const pipeline = await pipelineOf(state);
    expect(pipeline).toMatchObject({ origin: "document", status: "completed" });
    expect((state.result as { pipelineId: string }).pipelineId).toBe(pipeline.id);
    for (const step of pipeline.steps) expect((await agent.manager.getTask(step.taskId))?.source).toMatchObject({ documentId: id, origin: "document" });
    expect(await driveNodes()).toBe(before + 1); // the document itself, and no other
    await agent.handler.idle();
    const types = await operationTypes(id);
    expect(types.slice(0, 4)).toEqual(["SET_SPEC", "REQUEST_RUN", "MARK_QUEUED", "MARK_RUNNING"]);
    expect(types.at(-1)).toBe("MARK_COMPLETED");
    expect(new Set(types.slice(4, -1))).toEqual(new Set(["APPEND_OUTPUT"]));
  });

  it("a failed step fails the document with that step's error; the steps after it are cancelled", async () => {
    const id = await ask("doomed", { steps: [{ name: "check", task: node("check", "process.exit(4)") }, { name: "deploy", after: ["check"], task: node("deploy", "") }] });
    const state = await reaches(id, ["completed", "failed", "cancelled"]);
    expect(state.status).toBe("failed");
    expect(state.error?.code).toBe("exit_code");
    expect(state.error?.message).toMatch(/^step check: .*exited with code 4/);
    expect(state.result).toMatchObject({ status: "failed", steps: { check: { status: "failed" }, deploy: { status: "cancelled" } } });
    expect(state.outputTail).toMatch(/\d\d:\d\d:\d\d\.\d\d\d check: failed \(exit_code: .*exited with code 4.*\)\n/);
    expect(state.outputTail).toMatch(/\d\d:\d\d:\d\d\.\d\d\d deploy: cancelled \(dependency_failed: .*\)\n$/);
  });

  it("RETRY runs again only the failed step and what waits for it, as a second run of the same pipeline; REQUEST_RUN makes a new one", async () => {
    const flag = path.join(dataDir, "fixed");
    const id = await ask("fix and retry", {
      steps: [
        { name: "build", task: node("build", "process.stdout.write('built')") },
        { name: "check", after: ["build"], task: node("check", "process.exit(require('fs').existsSync(process.argv[1]) ? 0 : 3)", [flag]) },
        { name: "ship", after: ["check"], task: node("ship", "process.stdout.write('shipped')") },
      ],
    });
    const failed = await reaches(id, ["failed"]);
    const pipelineId = failed.currentTaskId!;
    const build = (await pipelineOf(failed)).steps[0]!.taskId;
    const builtAt = (await agent.manager.getTask(build))?.runtime.startedAt?.getTime();
    writeFileSync(flag, "");
    await dispatch(agent.reactor, id, actions.retry({}));
    const state = await reaches(id, ["completed", "failed", "cancelled"]);
    expect(state.status).toBe("completed");
    expect(state.currentTaskId).toBe(pipelineId);
    expect(state.result).toMatchObject({ steps: { build: { result: { stdout: "built" } }, check: { status: "completed" }, ship: { result: { stdout: "shipped" } } } });
    expect((await agent.manager.getTask(build))?.runtime.startedAt?.getTime()).toBe(builtAt); // not run again
    expect(state.runs.map((run) => [run.taskId, run.attempt, run.status])).toEqual([[pipelineId, 1, "failed"], [pipelineId, 2, "completed"]]);
    // The new run's output: the pipeline's progress as it stands — build's lines from the first run, each step once.
    expect(state.outputTail).toMatch(/^\S+ build: running\n\S+ build: completed\n\S+ check: running\n\S+ check: completed\n\S+ ship: running\n\S+ ship: completed\n$/);
    // Asked to run again once it completed: a new pipeline, every step.
    await dispatch(agent.reactor, id, actions.requestRun({}));
    const again = await waitFor(async () => {
      const s = await getTaskDocumentState(agent.reactor, id);
      return s.status === "completed" && s.currentTaskId !== pipelineId ? s : undefined;
    }, 30_000, "a new pipeline to complete");
    expect((await pipelineOf(again)).steps.map((step) => step.taskId)).not.toContain(build);
  });

  it("a RETRY written while the agent was down is taken up at start-up as a retry of the same pipeline", async () => {
    const flag = path.join(dataDir, "fixed-while-away");
    const id = await ask("retried while away", { steps: [{ name: "check", task: node("check", "process.exit(require('fs').existsSync(process.argv[1]) ? 0 : 3)", [flag]) }] });
    const pipelineId = (await reaches(id, ["failed"])).currentTaskId!;
    await agent.stop();
    // Another writer (a second reactor on the same drive files) asks for the retry while no agent runs.
    const offline = await createReactor({ storage: { kind: "filesystem", dir: path.join(dataDir, "documents") }, logger: silentLogger() });
    await dispatch(offline.reactor, id, actions.retry({}));
    writeFileSync(flag, "");
    agent = await start();
    const state = await reaches(id, ["completed", "failed", "cancelled"]);
    expect(state.status).toBe("completed");
    expect(state.currentTaskId).toBe(pipelineId);
    expect(state.runs.map((run) => run.attempt)).toEqual([1, 2]);
  });

  it("a repeated run request event makes no second pipeline", async () => {
    const id = await ask("once", { steps: [{ name: "a", task: node("a", "") }] });
    const state = await reaches(id, ["completed"]);
    await agent.handler.processDocument(await agent.reactor.getDocument(id));
    await agent.handler.enqueueForDocument(id, { ...state, status: "requested" }, undefined);
    const { pipelines } = (await (await fetch(`${agent.url}/api/pipelines?limit=100`)).json()) as { pipelines: { title: string }[] };
    expect(pipelines.filter((p) => p.title === "once")).toHaveLength(1);
  });

  it("cancel from the document cancels the pipeline and kills its running step", async () => {
    const pidFile = path.join(dataDir, "step.pid");
    const id = await ask("long", { steps: [{ name: "wait", task: { type: "cli", title: "wait", command: "sh", args: ["-c", `echo $$ > ${pidFile}; exec sleep 60`], workingDirectory: dataDir } }, { name: "after", after: ["wait"], task: node("after", "") }] });
    await reaches(id, ["running"]);
    const pid = await waitFor(() => readPid(pidFile));
    await dispatch(agent.reactor, id, actions.cancel({ reason: "not now" }));
    const state = await reaches(id, ["cancelled"]);
    expect(state.error?.code).toBe("cancelled");
    expect((await pipelineOf(state)).status).toBe("cancelled");
    expect(processAlive(pid)).toBe(false);
  });

  it("removing the document from its drive cancels its pipeline: the running step's process is killed, the rest never start", async () => {
    const pidFile = path.join(dataDir, "removed-step.pid");
    const id = await ask("orphaned", { steps: [{ name: "wait", task: { type: "cli", title: "wait", command: "sh", args: ["-c", `echo $$ > ${pidFile}; exec sleep 60`], workingDirectory: dataDir } }, { name: "after", after: ["wait"], task: node("after", "") }] });
    const running = await reaches(id, ["running"]);
    const pipelineId = running.currentTaskId!;
    const pid = await waitFor(() => readPid(pidFile));
    await removeDocument(agent.reactor, agent.localDriveId, id);
    const pipeline = await waitFor(async () => {
      const res = await fetch(`${agent.url}/api/pipelines/${pipelineId}`);
      const { pipeline: p } = (await res.json()) as { pipeline: { status: string; steps: { status: string }[] } };
      return p.status === "cancelled" ? p : undefined;
    }, 15_000, "the pipeline cancelled");
    expect(pipeline.steps.map((step) => step.status)).toEqual(["cancelled", "cancelled"]);
    expect(processAlive(pid)).toBe(false);
  });

  it("a pipeline the checks refuse is refused on the document naming the field; nothing is stored", async () => {
    const id = await ask("broken", { steps: [{ name: "a", after: ["nope"], task: node("a", "") }] });
    const state = await reaches(id, ["failed"]);
    expect(state.error?.code).toBe("invalid_task");
    expect(state.error?.message).toContain("steps.0.after.0");
    expect(state.currentTaskId).toBeNull();
    // Each step under the same policy as any task a document asks for: a directory outside the roots is refused.
    const escape = await ask("escape", { steps: [{ name: "ok", task: node("ok", "") }, { name: "peek", after: ["ok"], task: { type: "cli", title: "peek", command: "cat", args: ["passwd"], workingDirectory: "/etc" } }] });
    const refused = await reaches(escape, ["failed"]);
    expect(refused.error?.code).toBe("invalid_task");
    expect(refused.error?.message).toMatch(/workingDirectory: is outside the allowed roots/);
    expect((await agent.manager.listTasks({ documentId: escape, limit: 10, offset: 0 })).tasks).toHaveLength(0);
  });

  it("a blocked pipeline (onFailure wait) says so in a notice and keeps running; CANCEL then RETRY runs the failed and waiting steps", async () => {
    const marker = path.join(mkdtempSync(path.join(tmpdir(), "ph-flaky-")), "failed-once");
    const flaky = `const fs = require("node:fs"); if (!fs.existsSync(process.argv[1])) { fs.writeFileSync(process.argv[1], ""); process.exit(3); }`;
    const id = await ask("held", { onFailure: "wait", steps: [{ name: "first", task: node("first", "process.stdout.write('kept')") }, { name: "flaky", after: ["first"], task: node("flaky", flaky, [marker]) }, { name: "next", after: ["flaky"], task: node("next", "process.stdout.write('ran')") }] });
    const notice = await waitFor(async () => (await getTaskDocumentState(agent.reactor, id)).notices.find((n) => n.message.startsWith("pipeline blocked")), 30_000, "the blocked notice");
    expect(notice.message).toBe("pipeline blocked: steps wait for flaky to be retried — CANCEL, then RETRY, runs it and the steps waiting again (completed steps keep their results)");
    const state = await getTaskDocumentState(agent.reactor, id);
    expect(state.status).toBe("running");
    const blocked = await pipelineOf(state);
    expect(blocked.status).toBe("blocked");
    // Nothing changes while it is blocked: the catch-up every 2 s reads the document at most once.
    await agent.handler.idle();
    const reads = readsOf(id);
    await sleep(5000);
    expect(reads.stop()).toBeLessThanOrEqual(1);
    await expect(dispatch(agent.reactor, id, actions.retry({}))).rejects.toThrow(/already running/);
    await dispatch(agent.reactor, id, actions.cancel({ reason: "to retry" }));
    expect((await reaches(id, ["cancelled", "failed"])).status).toBe("failed");
    await dispatch(agent.reactor, id, actions.retry({}));
    const done = await reaches(id, ["completed"]);
    expect(done.currentTaskId).toBe(blocked.id); // the same pipeline, taken up again
    expect(done.result).toMatchObject({ steps: { first: { status: "completed", result: { stdout: "kept" } }, flaky: { status: "completed" }, next: { status: "completed", result: { stdout: "ran" } } } });
    const first = blocked.steps.find((step) => step.name === "first")!;
    expect((await agent.manager.getTask(first.taskId))?.attempts).toBe(1); // not run again
  });

  it("stopped mid-pipeline and started again, the document completes once", async () => {
    const id = await ask("survivor", { steps: [{ name: "first", task: node("first", "") }, { name: "slow", after: ["first"], task: node("slow", "setTimeout(() => process.stdout.write('done'), 1500)") }] });
    await waitFor(async () => {
      const state = await getTaskDocumentState(agent.reactor, id);
      return state.status === "running" && ((await pipelineOf(state)).steps.length > 0) ? true : undefined;
    }, 30_000, "the pipeline to run");
    await agent.stop();
    agent = await start();
    const state = await reaches(id, ["completed", "failed", "cancelled"]);
    expect(state.status).toBe("completed");
    expect(state.result).toMatchObject({ steps: { slow: { result: { stdout: "done" } } } });
    await agent.handler.idle();
    expect((await operationTypes(id)).filter((type) => type === "MARK_COMPLETED")).toHaveLength(1);
  });

  it("a task document whose task is tagged with a pipeline by hand still follows its own task", async () => {
    const other = await ask("someone else's", { steps: [{ name: "a", task: node("a", "") }] });
    const pipelineId = (await reaches(other, ["completed"])).currentTaskId!;
    const id = await addTaskDocument(agent.reactor, agent.localDriveId, { spec: { title: "posing", taskType: "cli", params: { command: "echo", args: ["-n", "mine"], tags: [`pipeline:${pipelineId}`] } }, requestRun: true });
    const state = await reaches(id, ["completed", "failed", "cancelled"]);
    expect(state.status).toBe("completed");
    expect(state.result).toMatchObject({ stdout: "mine" });
    expect((await getTaskDocumentState(agent.reactor, other)).status).toBe("completed");
  });

  it("may name a pipeline template with its parameters", async () => {
    const put = await fetch(`${agent.url}/api/templates/release`, { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ task: { pipeline: { title: "release {{params.version}}", steps: [{ name: "tag", task: node("tag {{params.version}}", "process.stdout.write('v' + process.argv[1])", ["{{params.version}}"]) }] } } }) });
    expect(put.status).toBe(201);
    const before = await driveNodes();
    const id = await ask("release from the drive", { template: "release", params: { version: "3.1" } });
    const state = await reaches(id, ["completed", "failed"]);
    expect(state.result).toMatchObject({ status: "completed", steps: { tag: { result: { stdout: "v3.1" } } } });
    const pipeline = await pipelineOf(state);
    expect(pipeline.origin).toBe("document");
    // The template's steps are linked to the document like any others: no task document of their own.
    expect((await agent.manager.getTask(pipeline.steps[0]!.taskId))?.source).toMatchObject({ documentId: id, origin: "document" });
    expect(await driveNodes()).toBe(before + 1);
  });
});
