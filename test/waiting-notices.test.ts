/**
 * A task document whose task has waited in the queue a while is told why (src/tasks/waiting-notices.ts),
 * on a real agent with a real reactor: its type paused, then its document's limit; each reason
 * once, and nothing for a task that starts at once.
 */
import { mkdtempSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAgent, type Agent } from "../src/agent.js";
import { loadConfig } from "../src/config.js";
import { silentLogger } from "../src/logger.js";
import { addTaskDocument, getTaskDocumentState } from "../src/reactor/documents.js";
import { sleep, waitFor } from "./support/process.js";

const root = realpathSync(mkdtempSync(path.join(tmpdir(), "ph-waiting-notices-")));

describe("a task document told why its task waits", () => {
  let agent: Agent;
  const post = async (url: string, body: unknown) => {
    const response = await fetch(`${agent.url}${url}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    expect(response.status).toBe(200);
  };
  const waits = async (doc: string) => (await getTaskDocumentState(agent.reactor, doc)).notices.filter((n) => n.message.startsWith("waits:"));
  const cli = (title: string, command: string, args: string[]) => ({ spec: { title, taskType: "cli", params: { command, args, workingDirectory: root } }, requestRun: true });

  beforeAll(async () => {
    const dataDir = mkdtempSync(path.join(root, "agent-"));
    const env = { TASK_DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "silent", TASK_ALLOWED_ROOTS: root, TASK_SHUTDOWN_GRACE_MS: "100", TASK_KILL_GRACE_MS: "300" };
    agent = await startAgent(loadConfig(env, dataDir), { logger: silentLogger(), reactorStorage: { kind: "memory" }, rules: [], waitToldAfterMs: 1000 });
  });
  afterAll(() => agent.stop());

  it("a task that starts at once gets no such notice", async () => {
    const doc = await addTaskDocument(agent.reactor, agent.localDriveId, cli("Quick", "true", []));
    await waitFor(async () => ((await getTaskDocumentState(agent.reactor, doc)).status === "completed" ? true : undefined), 20_000, "the quick task to complete");
    await sleep(3000); // past the second it would have had to wait, and a catch-up or two
    expect(await waits(doc)).toEqual([]);
  });

  it("its type paused: the document says so once, with the pause's reason; resumed, it runs", async () => {
    await post("/api/queue/pause", { types: ["cli"], reason: "maintenance until noon" });
    try {
      const doc = await addTaskDocument(agent.reactor, agent.localDriveId, cli("Paused", "true", []));
      const told = await waitFor(async () => {
        const notices = await waits(doc);
        return notices.length > 0 ? notices : undefined;
      }, 15_000, "the document to be told that its type is paused");
      expect(told[0]).toMatchObject({ level: "warning", message: "waits: the queue is paused for cli (maintenance until noon)" });
      await sleep(4500); // two more catch-ups: the same reason is not said again
      expect(await waits(doc)).toHaveLength(1);
      expect((await getTaskDocumentState(agent.reactor, doc)).status).toBe("queued");
      await post("/api/queue/resume", { types: ["cli"] });
      await waitFor(async () => ((await getTaskDocumentState(agent.reactor, doc)).status === "completed" ? true : undefined), 20_000, "the task to run once resumed");
    } finally {
      await post("/api/queue/resume", {});
    }
  });

  it("behind its drive's three running tasks (TASK_MAX_PER_DRIVE): the fourth is told it waits for them", async () => {
    const docs = [];
    for (const title of ["Slow 1", "Slow 2", "Slow 3"]) docs.push(await addTaskDocument(agent.reactor, agent.localDriveId, cli(title, "sleep", ["15"])));
    for (const doc of docs) await waitFor(async () => ((await getTaskDocumentState(agent.reactor, doc)).status === "running" ? true : undefined), 20_000, "the slow tasks to run");
    const behind = await addTaskDocument(agent.reactor, agent.localDriveId, cli("Behind", "true", []));
    const told = await waitFor(async () => {
      const notices = await waits(behind);
      return notices.length > 0 ? notices : undefined;
    }, 15_000, "the fourth task of the drive to be told it waits");
    expect(told[0]?.message).toBe("waits: 3 task(s) of its drive running; at most 3 at once");
    await waitFor(async () => ((await getTaskDocumentState(agent.reactor, behind)).status === "completed" ? true : undefined), 30_000, "the fourth to run in its turn");
  }, 60_000);
});
