/**
 * Per-type figures: /api/stats `types` and `ph-tasks stats` — waiting and running now, and the last
 * hour's completed, failed and cancelled tasks with the failure rate and the median and 95th
 * percentile of the completed runs; every type the agent has is listed.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { typeStatsToJson } from "../src/http/type-stats-json.js";
import { apiPerTest, TEST_TOKEN } from "./support/api-server.js";
import { waitFor } from "./support/process.js";

type TypeStats = { type: string; pending: number; running: number; lastHour: { completed: number; failed: number; cancelled: number; failureRate: number | null; p50Ms: number | null; p95Ms: number | null } };

describe("the per-type table", () => {
  it("lists a known type with nothing yet at zero without rates, and a type found only in the store", () => {
    const table = typeStatsToJson(["cli", "claude-code"], [{ status: "pending", type: "old-plugin", count: 2 }], [{ type: "cli", completed: 0, failed: 0, cancelled: 4, p50_ms: null, p95_ms: null }]);
    expect(table).toEqual([
      { type: "claude-code", pending: 0, running: 0, lastHour: { completed: 0, failed: 0, cancelled: 0, failureRate: null, p50Ms: null, p95Ms: null } },
      { type: "cli", pending: 0, running: 0, lastHour: { completed: 0, failed: 0, cancelled: 4, failureRate: null, p50Ms: null, p95Ms: null } },
      { type: "old-plugin", pending: 2, running: 0, lastHour: { completed: 0, failed: 0, cancelled: 0, failureRate: null, p50Ms: null, p95Ms: null } },
    ]);
  });
});

describe("per-type stats", () => {
  const ctx = apiPerTest();

  it("counts each type's tasks now and over the last hour, with run times; the CLI prints them as a table", async () => {
    await ctx.manager.start();
    const run = (title: string, args: string[], extra: Record<string, unknown> = {}) => ctx.manager.enqueueTask({ type: "cli", title, command: "sh", args: ["-c", ...args], maxAttempts: 1, ...extra });
    const ids = [
      (await run("quick", ["sleep 0.1"])).task.id,
      (await run("middle", ["sleep 0.3"])).task.id,
      (await run("slow", ["sleep 0.6"])).task.id,
      (await run("broken", ["exit 3"])).task.id,
    ];
    await waitFor(async () => ((await Promise.all(ids.map((id) => ctx.manager.getTask(id)))).every((t) => t?.status === "completed" || t?.status === "failed") ? true : undefined), 20_000, "four tasks to end");
    const later = await run("later", ["true"], { runAt: new Date(Date.now() + 3_600_000).toISOString() });
    const dropped = await run("dropped", ["true"], { runAt: new Date(Date.now() + 3_600_000).toISOString() });
    await ctx.manager.cancelTask(dropped.task.id);

    const { types } = (await (await ctx.http.api("/api/stats")).json()) as { types: TypeStats[] };
    expect(types.map((t) => t.type)).toEqual([...ctx.manager.registry.types()].sort());
    const cli = types.find((t) => t.type === "cli")!;
    expect(cli).toMatchObject({ pending: 1, running: 0, lastHour: { completed: 3, failed: 1, cancelled: 1, failureRate: 0.25 } });
    // The median of 0.1, 0.3 and 0.6 s runs is the 0.3 s one (plus the shell's start); the 95th near the slowest.
    expect(cli.lastHour.p50Ms).toBeGreaterThanOrEqual(280);
    expect(cli.lastHour.p50Ms).toBeLessThan(cli.lastHour.p95Ms!);
    expect(cli.lastHour.p95Ms).toBeGreaterThanOrEqual(520);
    expect(later.task.status).toBe("pending");

    const printed = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [path.resolve("bin/ph-tasks.js"), "stats"], { encoding: "utf8", env: { ...process.env, PH_TASKS_URL: ctx.http.url, API_TOKEN: TEST_TOKEN } }, (error, stdout) => (error ? reject(new Error(error.message)) : resolve(stdout))));
    const lines = printed.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^TYPE +WAITING +RUNNING +DONE 1H +FAILED 1H +CANCELLED 1H +FAILURE +MEDIAN +P95$/);
    expect(lines.find((l) => l.startsWith("cli "))).toMatch(/^cli +1 +0 +3 +1 +1 +25 % +0\.\d s +0\.\d s$/);

    // The status counts: what waits and runs now, what ended within the hour. An end two hours ago
    // is history (still listed, no longer counted).
    type Stats = { counts: Record<string, number>; finishedWindowMinutes: number; types: TypeStats[] };
    const before = (await (await ctx.http.api("/api/stats")).json()) as Stats;
    expect(before.counts).toEqual({ pending: 1, running: 0, completed: 3, failed: 1, cancelled: 1 });
    expect(before.finishedWindowMinutes).toBe(60);
    await ctx.manager.store.db.query("UPDATE ph_tasks SET finished_at = now() - interval '2 hours' WHERE id = $1", [ids[0]]);
    const after = (await (await ctx.http.api("/api/stats")).json()) as Stats;
    expect(after.counts).toEqual({ pending: 1, running: 0, completed: 2, failed: 1, cancelled: 1 });
    expect(after.types.find((t) => t.type === "cli")?.lastHour.completed).toBe(2);
    expect((await ctx.manager.getTask(ids[0]!))?.status).toBe("completed");
  });
});
