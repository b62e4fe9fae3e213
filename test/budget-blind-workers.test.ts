/**
 * A rolling upgrade: a worker whose code predates the migration that stores budgets set while the
 * agents run (042 for drives', 044 for the daily budget) holds to its settings alone. Setting one
 * must not look like it holds everywhere: GET, PUT and DELETE on /api/budgets/daily and
 * /api/budgets/drives name the live workers that do not read it (a lost one is not named), and
 * `ph-tasks budget` warns on stderr. On the HTTP server over PGlite, with worker rows as older
 * agents write them.
 */
import type { Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, listen } from "../src/http/server.js";
import { silentLogger } from "../src/logger.js";
import { TaskStore } from "../src/store/task-store.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import { testManager } from "./support/manager.js";
import { phTasks } from "./support/ph-tasks-cli.js";

const TOKEN = "blind-workers-admin-token-0123";

describe("budgets set while older workers run", () => {
  let store: TaskStore;
  let manager: TaskManager;
  let server: Server;
  let base: string;
  const call = async (method: string, route: string, body?: unknown) => {
    const res = await fetch(`${base}${route}`, { method, headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    expect(res.status, `${method} ${route}`).toBe(200);
    return (await res.json()) as { ignoredBy: { workerId: string; host: string; version: string; schemaVersion: number | null }[]; warning: string | null };
  };
  /** A worker row as an agent knowing migrations up to `schema` writes it, last heard from `seenAgo` ago. */
  const olderWorker = (id: string, version: string, schema: number | null, seenAgo: string) =>
    store.db.query(`INSERT INTO ph_workers (worker_id, host, pid, version, state, max_concurrent, prefetch, lease_ms, types, started_at, schema_version, last_seen_at)
                    VALUES ($1, 'old-host', 42, $2, 'running', 2, 0, 30000, '{cli}', now() - interval '2 hours', $3, now() - $4::interval)`, [id, version, schema, seenAgo]);

  beforeAll(async () => {
    store = await TaskStore.open({});
    manager = testManager(store, { budgetUsdPerDay: 5 });
    await manager.start();
    ({ server, url: base } = await listen(createApp({ manager, metrics: manager.metrics!, logger: silentLogger(), apiToken: TOKEN }), "127.0.0.1", 0, TOKEN));
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await manager.stop(0);
    await store.close();
  });

  it("names the live workers that do not read it, for each kind of budget, and the CLI warns", async () => {
    // This agent's own worker reads both: nothing to say.
    expect(await call("GET", "/api/budgets/daily")).toMatchObject({ ignoredBy: [], warning: null });
    expect(await call("GET", "/api/budgets/drives")).toMatchObject({ ignoredBy: [], warning: null });

    await olderWorker("w-041", "0.9.0", 41, "2 seconds"); // neither
    await olderWorker("w-043", "0.9.5", 43, "1 second"); // drives', not the daily
    await olderWorker("w-028", "0.5.0", null, "3 seconds"); // older than schema versions
    await olderWorker("w-lost", "0.9.0", 41, "1 hour"); // gone: not named

    const daily = await call("PUT", "/api/budgets/daily", { usdPerDay: 3 });
    expect(daily.ignoredBy.map((w) => [w.workerId, w.schemaVersion])).toEqual([["w-028", null], ["w-041", 41], ["w-043", 43]]);
    expect(daily.warning).toBe("workers w-028 on old-host (agent 0.5.0), w-041 on old-host (agent 0.9.0), w-043 on old-host (agent 0.9.5) do not read the daily budget set while the agents run: they hold to their settings until upgraded");
    const drives = await call("PUT", "/api/budgets/drives/team", { usdPerDay: 1 });
    expect(drives.ignoredBy.map((w) => w.workerId)).toEqual(["w-028", "w-041"]);
    expect((await call("DELETE", "/api/budgets/drives/team")).ignoredBy.map((w) => w.workerId)).toEqual(["w-028", "w-041"]);

    const env = { PH_TASKS_URL: base, API_TOKEN: TOKEN };
    const set = await phTasks(["budget", "daily", "set", "4"], env);
    expect(set.status).toBe(0);
    expect(set.stdout).toMatch(/^all runs: a daily budget of \$4\.00, set by API_TOKEN;/);
    expect(set.stderr).toBe(`warning: ${daily.warning}\n`);
    // Upgraded: w-043 now knows 45 migrations; w-041 and w-028 left (their rows gone).
    await store.db.query("UPDATE ph_workers SET schema_version = 45 WHERE worker_id = 'w-043'");
    const listed = await phTasks(["budget"], env);
    expect(listed.stderr).toBe(
      "warning: workers w-028 on old-host (agent 0.5.0), w-041 on old-host (agent 0.9.0) do not read the daily budget set while the agents run: they hold to their settings until upgraded\n" +
        "warning: workers w-028 on old-host (agent 0.5.0), w-041 on old-host (agent 0.9.0) do not read drive budgets set while the agents run: they hold to their settings until upgraded\n",
    );
    // A person's budget set: w-043 (45) reads the others, not people's (047); listed once someone has one.
    const person = await phTasks(["budget", "person", "set", "intern", "1"], env);
    expect(person.stderr).toBe("warning: workers w-028 on old-host (agent 0.5.0), w-041 on old-host (agent 0.9.0), w-043 on old-host (agent 0.9.5) do not read budgets per person set while the agents run: they hold to their settings until upgraded\n");
    expect((await phTasks(["budget"], env)).stderr).toMatch(/\nwarning: workers w-028 .*, w-043 on old-host \(agent 0\.9\.5\) do not read budgets per person set while the agents run: they hold to their settings until upgraded\n$/);
    await phTasks(["budget", "person", "remove", "intern"], env);
    await store.db.query("DELETE FROM ph_workers WHERE worker_id IN ('w-041', 'w-028')");
    const removed = await phTasks(["budget", "daily", "remove"], env);
    expect(removed).toMatchObject({ status: 0, stderr: "" });
    expect(await call("GET", "/api/budgets/drives")).toMatchObject({ ignoredBy: [], warning: null });
    expect(await call("GET", "/api/budgets/people")).toMatchObject({ ignoredBy: [{ workerId: "w-043" }] });
  });
});
