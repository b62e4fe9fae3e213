/**
 * Flood protection for tasks from documents: per document, per drive (a writer making a new
 * document for every request), and the memory it keeps on a long-running agent. The drive cap on
 * a real reactor: task documents in one drive, each asking once, until the drive's minute is full.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { startAgent } from "../src/agent.js";
import { loadConfig } from "../src/config.js";
import { silentLogger } from "../src/logger.js";
import { addTaskDocument, getTaskDocumentState } from "../src/reactor/documents.js";
import { LoopGuard } from "../src/tasks/loop-guard.js";
import { waitFor } from "./support/process.js";

describe("the loop guard", () => {
  it("caps starts per document and per drive within a minute; the next minute starts afresh", () => {
    const guard = new LoopGuard({ maxChainDepth: 3, maxTasksPerDocumentPerMinute: 2, maxTasksPerDrivePerMinute: 3 });
    const t0 = 1_000_000;
    expect(guard.admit("d1", 0, t0, "drive")).toBeUndefined();
    expect(guard.admit("d1", 0, t0, "drive")).toBeUndefined();
    expect(guard.admit("d1", 0, t0, "drive")?.message).toBe("document d1 already started 2 tasks in the last minute (TASK_MAX_TASKS_PER_DOCUMENT_PER_MINUTE=2)");
    // A new document in the same drive: the drive's third start passes, its fourth does not.
    expect(guard.admit("d2", 0, t0, "drive")).toBeUndefined();
    expect(guard.admit("d3", 0, t0, "drive")).toMatchObject({ code: "rate_capped", message: "drive drive already started 3 tasks in the last minute (TASK_MAX_TASKS_PER_DRIVE_PER_MINUTE=3)" });
    // A refused start is not counted against its document; another drive is not affected.
    expect(guard.admit("d3", 0, t0, "other")).toBeUndefined();
    expect(guard.admit("d4", 0, t0 + 60_000, "drive")).toBeUndefined();
    expect(guard.admit("d1", 4, t0 + 60_000, "drive")?.code).toBe("chain_depth_exceeded");
  });

  it("forgets documents quiet for a minute once it holds many (a long-running agent sees many)", () => {
    const guard = new LoopGuard({ maxChainDepth: 3, maxTasksPerDocumentPerMinute: 30, maxTasksPerDrivePerMinute: 1_000_000 });
    for (let i = 0; i < 10_000; i++) guard.admit(`old-${i}`, 0, 0, "drive");
    expect(guard.keys.documents).toBe(10_000);
    guard.admit("new", 0, 120_000, "drive");
    expect(guard.keys.documents).toBe(1);
  });
});

describe("the drive cap on a real reactor", () => {
  it("a drive's documents together start at most TASK_MAX_TASKS_PER_DRIVE_PER_MINUTE; the next is rejected on its document", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "ph-drive-cap-"));
    const env = { TASK_DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "silent", TASK_SHUTDOWN_GRACE_MS: "100", TASK_MAX_TASKS_PER_DRIVE_PER_MINUTE: "3" };
    const agent = await startAgent(loadConfig(env, dataDir), { logger: silentLogger(), rules: [] });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        ids.push(await addTaskDocument(agent.reactor, agent.localDriveId, { spec: { title: `Flood ${i}`, taskType: "cli", params: { command: "true" } }, requestRun: true }));
        // One at a time, so that which one is the fourth is known.
        await waitFor(async () => (["completed", "failed"].includes((await getTaskDocumentState(agent.reactor, ids[i]!)).status) ? true : undefined), 20_000, `document ${i} to end`);
      }
      const states = await Promise.all(ids.map((id) => getTaskDocumentState(agent.reactor, id)));
      expect(states.map((s) => s.status)).toEqual(["completed", "completed", "completed", "failed"]);
      expect(states[3]?.error).toMatchObject({ code: "rate_capped", message: expect.stringContaining("TASK_MAX_TASKS_PER_DRIVE_PER_MINUTE=3") as string });
    } finally {
      await agent.stop();
    }
  });
});
