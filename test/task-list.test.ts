/**
 * Listing a long retained history: the page comes newest first and `total` stops counting at
 * LIST_TOTAL_CAP (the dashboard refreshes it every few seconds; counting every match read the
 * whole table each time), saying so with totalCapped.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LIST_TOTAL_CAP } from "../src/store/sql/list-tasks.js";
import { TaskStore } from "../src/store/task-store.js";
import { cliRegistry, testManager } from "./support/manager.js";

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
