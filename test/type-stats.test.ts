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
    expect(lines.find((l) => l.startsWith("cli "))).toMatch(/^cli +1 +0 +3 +1 +1 +25 % +\d+\.\d s +\d+\.\d s$/); // (a loaded machine stretched the 0.6 s run to 1.0 s)

    // The status counts: what waits and runs now, what ended within the hour. An end two hours ago
    // is history (still listed, not counted) — one kept from before, written straight into the store.
    type Stats = { counts: Record<string, number>; finishedWindowMinutes: number; types: TypeStats[] };
    const before = (await (await ctx.http.api("/api/stats")).json()) as Stats;
    expect(before.counts).toEqual({ pending: 1, running: 0, completed: 3, failed: 1, cancelled: 1 });
    expect(before.finishedWindowMinutes).toBe(60);
    await ctx.manager.store.db.query(
      `INSERT INTO ph_tasks (id, type, title, status, priority, rank_at, attempts, max_attempts, timeout_ms, finished_at, run_ms)
       VALUES ('ended-long-ago', 'cli', 'ended long ago', 'completed', 50, now(), 1, 1, 60000, now() - interval '2 hours', 100)`,
    );
    const after = (await (await ctx.http.api("/api/stats")).json()) as Stats;
    expect(after.counts).toEqual(before.counts);
    expect(after.types.find((t) => t.type === "cli")?.lastHour.completed).toBe(3);
    expect((await ctx.manager.getTask("ended-long-ago"))?.status).toBe("completed");
  });

  it("says why tasks failed, per type and error code, in /api/stats, /api/failures and ph-tasks failures", async () => {
    await ctx.manager.start();
    const run = (title: string, script: string) => ctx.manager.enqueueTask({ type: "cli", title, command: "sh", args: ["-c", script], maxAttempts: 1 });
    const ids = [(await run("exit 3", "exit 3")).task.id, (await run("exit 4", "exit 4")).task.id, (await run("fine", "true")).task.id];
    const missing = (await ctx.manager.enqueueTask({ type: "cli", title: "no such program", command: "no-such-program-here", maxAttempts: 1 })).task.id;
    await waitFor(async () => ((await Promise.all([...ids, missing].map((id) => ctx.manager.getTask(id)))).every((t) => t?.status === "completed" || t?.status === "failed") ? true : undefined), 20_000, "four tasks to end");
    const exit4 = await ctx.manager.getTask(ids[1]!);

    type Failure = { type: string; code: string; count: number; lastAt: string; lastMessage: string; lastTaskId: string };
    const { failures } = (await (await ctx.http.api("/api/stats")).json()) as { failures: Failure[] };
    expect(failures.map((f) => [f.type, f.code, f.count])).toEqual([["cli", "exit_code", 2], ["cli", "command_not_found", 1]]);
    // The latest of the two exit codes is the one that finished last (two ends recorded together
    // share a time: then the later id).
    const ends = await Promise.all(ids.slice(0, 2).map((id) => ctx.manager.getTask(id)));
    const latest = ends.sort((a, b) => b!.runtime.finishedAt!.getTime() - a!.runtime.finishedAt!.getTime() || (b!.id > a!.id ? 1 : -1))[0]!;
    expect(failures[0]).toMatchObject({ lastTaskId: latest.id, lastMessage: latest.error?.message });
    expect(exit4?.error?.code).toBe("exit_code");

    const since = (await (await ctx.http.api("/api/failures?since=1h&type=cli&limit=1")).json()) as { failures: Failure[] };
    expect(since.failures.map((f) => f.code)).toEqual(["exit_code"]);
    const bad = await ctx.http.api("/api/failures?since=yesterday&colour=red");
    expect(bad.status).toBe(400);
    const { errors } = (await bad.json()) as { errors: { field: string; message: string; value: string }[] };
    expect(errors).toEqual([
      expect.objectContaining({ field: "since", value: '"yesterday"', message: expect.stringContaining("a time ago with a unit") }),
      expect.objectContaining({ field: "(root)", message: 'Unrecognized key: "colour"' }),
    ]);

    const printed = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [path.resolve("bin/ph-tasks.js"), "failures", "--since", "2h"], { encoding: "utf8", env: { ...process.env, PH_TASKS_URL: ctx.http.url, API_TOKEN: TEST_TOKEN } }, (error, stdout) => (error ? reject(new Error(error.message)) : resolve(stdout))));
    const lines = printed.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^TYPE +CODE +COUNT +LAST +LAST TASK +LAST MESSAGE$/);
    expect(lines[2]).toMatch(new RegExp(`^cli +exit_code +2 +\\d+s ago +${latest.id} +`));
    expect(lines[3]).toMatch(new RegExp(`^cli +command_not_found +1 +\\d+s ago +${missing} +command not found`));
  });
});
