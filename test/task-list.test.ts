/**
 * Listing a long retained history: the page comes newest first and `total` stops counting at
 * LIST_TOTAL_CAP (the dashboard refreshes it every few seconds; counting every match read the
 * whole table each time), saying so with totalCapped. Filters: created since / until, title search.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LIST_TOTAL_CAP } from "../src/store/sql/list-tasks.js";
import { TaskStore } from "../src/store/task-store.js";
import { cliRegistry, testManager } from "./support/manager.js";
import { serveApi } from "./support/api-server.js";

describe("listing tasks (PGlite)", () => {
  let store: TaskStore;
  beforeAll(async () => {
    store = await TaskStore.open({});
    const manager = testManager(store, {}, cliRegistry());
    const count = LIST_TOTAL_CAP + 50;
    for (let i = 0; i < count; i += 1000) {
      await manager.enqueueTasks(Array.from({ length: Math.min(1000, count - i) }, (_, j) => ({ type: "cli", title: `t${i + j}`, command: "true", source: { documentId: i + j < 50 ? "few" : "many" } })));
    }
  });
  afterAll(async () => {
    await store.close();
  });

  it("counts up to the cap and says when there are more", async () => {
    const all = await store.list({ limit: 20, offset: 0 });
    expect(all.rows).toHaveLength(20);
    expect(all).toMatchObject({ total: LIST_TOTAL_CAP, totalCapped: true });
    const created = all.rows.map((r) => r.created_at.getTime());
    expect([...created].sort((a, b) => b - a)).toEqual(created); // newest first
  });

  it("lists tasks enqueued one after another newest first, also within one millisecond (time-ordered ids)", async () => {
    const manager = testManager(store, {}, cliRegistry());
    const titles = Array.from({ length: 30 }, (_, i) => `in order ${i}`);
    for (const title of titles) await manager.enqueueTask({ type: "cli", title, command: "true", source: { documentId: "ordered" } });
    const page = await store.list({ limit: 30, offset: 0, documentId: "ordered" });
    expect(page.rows.map((r) => r.title)).toEqual([...titles].reverse());
  });

  it("counts exactly below the cap, and an empty page still tells the total", async () => {
    expect(await store.list({ limit: 20, offset: 0, documentId: "few" })).toMatchObject({ total: 50, totalCapped: false });
    const beyond = await store.list({ limit: 20, offset: 100, documentId: "few" });
    expect(beyond).toMatchObject({ rows: [], total: 50, totalCapped: false });
    expect(await store.list({ limit: 20, offset: 0, documentId: "none" })).toMatchObject({ rows: [], total: 0, totalCapped: false });
  });
});

describe("listing filters over HTTP: created since / until, title search", () => {
  let store: TaskStore;
  let http: Awaited<ReturnType<typeof serveApi>>;
  const titles = async (query: string) => {
    const res = await http.api(`/api/tasks?${query}`);
    return { status: res.status, body: (await res.json()) as { tasks?: { title: string }[]; errors?: { field: string; message: string }[] } };
  };

  beforeAll(async () => {
    store = await TaskStore.open({});
    const manager = testManager(store, {}, cliRegistry());
    for (const title of ["Deploy web", "deploy API", "100% done", "a_b", "back\\slash", "three days old"]) await manager.enqueueTask({ type: "cli", title, command: "true" });
    await store.db.query("UPDATE ph_tasks SET created_at = now() - interval '3 days' WHERE title = 'three days old'");
    http = await serveApi(manager);
  });
  afterAll(async () => {
    await http.close();
    await store.close();
  });

  it("finds titles ignoring case, taking %, _ and \\ literally", async () => {
    const found = async (q: string) => (await titles(`q=${encodeURIComponent(q)}`)).body.tasks?.map((t) => t.title).sort();
    expect(await found("DEPLOY")).toEqual(["Deploy web", "deploy API"]);
    expect(await found("%")).toEqual(["100% done"]);
    expect(await found("_")).toEqual(["a_b"]);
    expect(await found("\\")).toEqual(["back\\slash"]);
    expect(await found("nothing like it")).toEqual([]);
  });

  it("filters by when a task was created: a time ago or an ISO date-time; a bad one is a 400 naming it", async () => {
    const since = (await titles("since=1d")).body.tasks?.map((t) => t.title);
    expect(since).toHaveLength(5);
    expect(since).not.toContain("three days old");
    expect((await titles("until=1d")).body.tasks?.map((t) => t.title)).toEqual(["three days old"]);
    const iso = new Date(Date.now() - 4 * 86_400_000).toISOString();
    expect((await titles(`since=${iso}&until=2d`)).body.tasks?.map((t) => t.title)).toEqual(["three days old"]);
    const bad = await titles("since=yesterday");
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([expect.objectContaining({ field: "since", message: "must be an ISO date-time (2026-12-03T08:00:00Z) or a time ago with a unit (90s, 2h, 7d)" })]);
  });
});
