/**
 * The agent's local drives (local-drives.ts): task documents it makes go in "tasks" until it holds
 * TASK_LOCAL_DRIVE_MAX_DOCUMENTS, then in "tasks-2", "tasks-3"... — adding a document to a drive
 * costs time in proportion to the documents already in it. Tasks in any of them run and their
 * documents say so; a restarted agent goes on filling the newest; documents asked for at once open
 * one new drive, not several. A real reactor on the filesystem, the agent on PGlite, real processes.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { IDocumentDriveServer } from "document-drive";
import { afterAll, describe, expect, it } from "vitest";
import { startAgent, type Agent } from "../src/agent.js";
import { loadConfig } from "../src/config.js";
import { silentLogger } from "../src/logger.js";
import { getTaskDocumentState } from "../src/reactor/documents.js";
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
