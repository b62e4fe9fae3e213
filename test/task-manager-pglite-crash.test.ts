/**
 * The embedded store survives kill -9: a worker on a PGlite data directory is killed mid-run; a
 * new process on the same directory recovers the interrupted tasks once their lease expires, and
 * every accepted task completes exactly once.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import { TaskStore } from "../src/store/task-store.js";
import { waitFor } from "./support/process.js";

function startWorker(dataDir: string, workerId: string) {
  const args = { dataDir, workerId, maxConcurrent: 4, maxPerDocument: 10, maxPerDrive: 10, leaseMs: 1500 };
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "test/support/worker-process.ts", JSON.stringify(args)], { stdio: ["ignore", "pipe", "inherit"] });
  const lines: { event: string; id?: string }[] = [];
  createInterface({ input: child.stdout! }).on("line", (line) => {
    try {
      lines.push(JSON.parse(line) as { event: string; id?: string });
    } catch {
      // not ours
    }
  });
  return { child, lines };
}

describe("TaskManager on PGlite, killed with SIGKILL", () => {
  it("loses nothing: interrupted tasks run again after a restart on the same data directory", async () => {
    const dataDir = path.join(mkdtempSync(path.join(tmpdir(), "ph-crash-")), "store");
    // Enqueue through a short-lived store, then close it: one process owns a PGlite directory at a time.
    const seed = await TaskStore.open({ dataDir });
    const now = new Date();
    const tasks = Array.from({ length: 12 }, (_, i) => ({ id: `crash-${i}`, type: "hold", title: `c${i}`, instructions: "", status: "pending" as const, priority: 50, attempts: 0, maxAttempts: 3, timeoutMs: 30_000, createdAt: now, updatedAt: now, ms: 400, source: { documentId: `d${i}`, chainDepth: 0 } }));
    await seed.insert(tasks, 60_000);
    await seed.close();

    const first = startWorker(dataDir, "crash-1");
    await waitFor(() => first.lines.filter((l) => l.event === "exec-start").length >= 4 || undefined, 60_000, "first worker to start tasks");
    first.child.kill("SIGKILL");
    await new Promise((resolve) => first.child.once("exit", resolve));

    const second = startWorker(dataDir, "crash-2");
    await waitFor(() => second.lines.some((l) => l.event === "ready") || undefined, 60_000, "second worker");
    // Wait until the second worker has recovered and finished everything: it completed something
    // and has been quiet for longer than a lease.
    let seen = 0;
    let quietSince = Date.now();
    await waitFor(() => {
      if (second.lines.length !== seen) {
        seen = second.lines.length;
        quietSince = Date.now();
      }
      return second.lines.some((l) => l.event === "completed") && Date.now() - quietSince > 2500 ? true : undefined;
    }, 60_000, "second worker to finish the queue");
    second.child.kill("SIGTERM");
    await new Promise((resolve) => second.child.once("exit", resolve));

    const store = await TaskStore.open({ dataDir });
    const { rows } = await store.db.query<{ id: string; status: string; attempts: number }>("SELECT id, status, attempts FROM ph_tasks ORDER BY id");
    await store.close();
    expect(rows).toHaveLength(12);
    expect(rows.filter((r) => r.status !== "completed")).toEqual([]);
    const interrupted = rows.filter((r) => r.attempts >= 2);
    expect(interrupted.length).toBeGreaterThan(0); // the killed attempts were recovered and run again
  });
});
