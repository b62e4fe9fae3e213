/**
 * The agent's local drives (local-drives.ts): task documents it makes go in "tasks" until it holds
 * TASK_LOCAL_DRIVE_MAX_DOCUMENTS, then in "tasks-2", "tasks-3"... — adding a document to a drive
 * costs time in proportion to the documents already in it. Tasks in any of them run and their
 * documents say so; a restarted agent goes on filling the newest; documents asked for at once open
 * one new drive, not several. A full drive whose tasks are all past retention is removed with its
 * documents — never the first, the newest, or one holding a document the agent did not make. A
 * real reactor on the filesystem, the agent on PGlite, real processes.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { addFile, type IDocumentDriveServer } from "document-drive";
import { afterAll, describe, expect, it } from "vitest";
import { startAgent, type Agent } from "../src/agent.js";
import { loadConfig } from "../src/config.js";
import { silentLogger } from "../src/logger.js";
import { dispatch, getTaskDocumentState } from "../src/reactor/documents.js";
import { createReactor } from "../src/reactor/reactor-setup.js";
import { waitFor } from "./support/process.js";

/** Each local drive's slug and how many documents it holds, in order. */
async function localDrives(reactor: IDocumentDriveServer): Promise<[string, number][]> {
  const drives: [string, number][] = [];
  for (const id of await reactor.getDrives()) {
    const drive = await reactor.getDrive(id);
    if (drive.header.slug?.startsWith("tasks")) drives.push([drive.header.slug, drive.state.global.nodes.filter((n) => n.kind === "file").length]);
  }
  return drives.sort((a, b) => a[0].length - b[0].length || a[0].localeCompare(b[0]));
}

describe("the agent's local drives", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "ph-local-drives-"));
  let agent: Agent | undefined;
  const start = async () => (agent = await startAgent(loadConfig({ TASK_DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "silent", TASK_LOCAL_DRIVE_MAX_DOCUMENTS: "10" }, dataDir), { logger: silentLogger(), rules: [] }));
  afterAll(async () => {
    await agent?.stop();
  });

  const submit = async (n: number) => {
    const res = await fetch(`${agent!.url}/api/tasks`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type: "cli", title: `task ${n}`, command: "echo", args: ["-n", `ran ${n}`] }) });
    expect(res.status).toBe(201);
    return ((await res.json()) as { task: { id: string; source: { documentId: string; driveId: string } } }).task;
  };

  it("fills one drive up to the limit, then the next; the tasks in each run and their documents say so; a restart goes on with the newest", async () => {
    await start();
    const tasks = [];
    for (let n = 1; n <= 25; n++) tasks.push(await submit(n));
    expect(await localDrives(agent!.reactor)).toEqual([["tasks", 10], ["tasks-2", 10], ["tasks-3", 5]]);
    expect(new Set(tasks.slice(0, 10).map((t) => t.source.driveId))).toEqual(new Set([agent!.localDriveId]));
    expect(new Set(tasks.map((t) => t.source.driveId)).size).toBe(3);
    const last = tasks.at(-1)!;
    const state = await waitFor(async () => {
      const s = await getTaskDocumentState(agent!.reactor, last.source.documentId);
      return s.status === "completed" ? s : undefined;
    }, 30_000, "the last task's document to say completed");
    expect(state.outputTail).toContain("ran 25");

    await agent!.stop();
    await start();
    const next = await submit(26);
    expect(next.source.driveId).toBe(last.source.driveId);
    expect(await localDrives(agent!.reactor)).toEqual([["tasks", 10], ["tasks-2", 10], ["tasks-3", 6]]);
  });

  it("removes a full drive with its documents once every task of them is past retention; keeps the first, the newest, and a drive holding anything else", async () => {
    const reactor = agent!.reactor;
    const driveOf = async (slug: string) => {
      for (const id of await reactor.getDrives()) if ((await reactor.getDrive(id)).header.slug === slug) return id;
      return undefined;
    };
    const documentsOf = async (driveId: string) => (await reactor.getDrive(driveId)).state.global.nodes.filter((n) => n.kind === "file").map((n) => n.id);
    const tasksOf = async (documentIds: string[]) => {
      const ids: string[] = [];
      for (const documentId of documentIds) {
        const state = await waitFor(async () => {
          const s = await getTaskDocumentState(reactor, documentId);
          return s.status === "completed" ? s : undefined;
        }, 30_000, "every document to say completed");
        ids.push(state.currentTaskId!);
      }
      return ids;
    };
    const forget = (ids: string[]) => agent!.store.db.query("DELETE FROM ph_tasks WHERE id = ANY($1)", [ids]); // as TASK_RESULT_TTL's cleanup does

    const second = (await driveOf("tasks-2"))!;
    const documents = await documentsOf(second);
    const tasks = await tasksOf(documents);
    await forget(tasks.slice(1));
    expect(await agent!.removeSpentLocalDrives()).toEqual([]); // one of its tasks is still kept
    await forget(tasks.slice(0, 1));
    expect(await agent!.removeSpentLocalDrives()).toEqual([second]);
    expect(await driveOf("tasks-2")).toBeUndefined();
    await expect(reactor.getDocument(documents[0]!)).rejects.toThrow();
    // The first drive is never removed, nor the newest (tasks-3 takes new documents).
    await forget(await tasksOf(await documentsOf(agent!.localDriveId)));
    expect(await agent!.removeSpentLocalDrives()).toEqual([]);
    expect((await localDrives(reactor)).map(([slug]) => slug)).toEqual(["tasks", "tasks-3"]);

    // After a restart: tasks-3 fills up, then tasks-4 opens (numbered after the newest).
    await agent!.stop();
    await start();
    for (let n = 27; n <= 31; n++) await submit(n);
    expect(await localDrives(agent!.reactor)).toEqual([["tasks", 10], ["tasks-3", 10], ["tasks-4", 1]]);
    // A full drive holding a document the agent did not make is kept.
    const third = (await driveOf("tasks-3"))!;
    const thirdTasks = await tasksOf(await documentsOf(third));
    const other = await agent!.reactor.addDocument("powerhouse/document-model");
    await dispatch(agent!.reactor, third, addFile({ id: other.header.id, name: "Someone else model", documentType: "powerhouse/document-model", parentFolder: null }));
    await forget(thirdTasks);
    expect(await agent!.removeSpentLocalDrives()).toEqual([]);
    expect(await driveOf("tasks-3")).toBe(third);
  });
});

describe("documents asked for at once", () => {
  it("open one new drive between them, not one each", async () => {
    const { reactor, localDrives: drives } = await createReactor({ storage: { kind: "memory" }, logger: silentLogger(), logLevel: "silent", localDriveMaxDocuments: 10 });
    const ids = await Promise.all(Array.from({ length: 15 }, () => drives.forNewDocument()));
    expect(ids.filter((id) => id === drives.firstId)).toHaveLength(10);
    expect(new Set(ids).size).toBe(2);
    expect((await localDrives(reactor)).map(([slug]) => slug)).toEqual(["tasks", "tasks-2"]);
  });
});
