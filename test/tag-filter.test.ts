/**
 * The tag filter (`ph-tasks list --tag`, the dashboard's, retry / cancel by tag) finds a tag's tasks
 * through their own rows (migration 025), not by reading every retained task's params: with
 * 1,000,000 tasks kept the old filter read them all whenever few carried the tag. Checked the way a
 * slow read shows itself — EXPLAIN ANALYZE of the list's statement counts the ph_tasks rows it read —
 * on PGlite and PostgreSQL; and the rows come and go with their tasks (insert, refusal, retention).
 */
import { describe, expect, it } from "vitest";
import { statements as tagMigration } from "../src/store/migrations/025-task-tags.js";
import type { TaskStore } from "../src/store/task-store.js";
import { testManager } from "./support/manager.js";
import { explain, recordStatements, rowsRead } from "./support/query-plans.js";
import { BACKENDS, storePerTest } from "./support/stores.js";
import { insertFinishedHistory } from "./support/history.js";

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`the tag filter on ${backend.name}`, () => {
    const openStore = storePerTest(backend);

    const tagRows = async (store: TaskStore) =>
      (await store.db.query<{ tag: string; task_id: string }>("SELECT tag, task_id FROM ph_task_tags ORDER BY tag, task_id")).rows.map((r) => `${r.tag} ${r.task_id}`);

    it("lists a tag's tasks newest first, reading no task without the tag", async () => {
      const { store } = await openStore();
      const manager = testManager(store);
      const made: string[] = [];
      for (let i = 0; i < 3; i++) made.push((await manager.enqueueTask({ type: "cli", title: `tagged ${i}`, command: "true", tags: ["release-42", `n${i}`] })).task.id);
      await manager.enqueueTask({ type: "cli", title: "another tag", command: "true", tags: ["release-43"] });
      await insertFinishedHistory(store.db, 2000, "old "); // none tagged

      const listed = await manager.listTasks({ tag: "release-42", limit: 2, offset: 0 });
      expect(listed.tasks.map((t) => t.title)).toEqual(["tagged 2", "tagged 1"]);
      expect(listed.total).toBe(3);
      expect((await manager.listTasks({ tag: "n1", limit: 25, offset: 0 })).tasks.map((t) => t.id)).toEqual([made[1]]);
      // The other filters still apply on top of the tag.
      expect((await manager.listTasks({ tag: "release-42", titleContains: "1", limit: 25, offset: 0 })).tasks.map((t) => t.id)).toEqual([made[1]]);
      expect((await manager.listTasks({ tag: "release-42", status: ["completed"], limit: 25, offset: 0 })).tasks).toEqual([]);
      expect((await manager.listTasks({ tag: "nobody-has-it", limit: 25, offset: 0 })).total).toBe(0);

      // What the list sent, explained with its actual row counts.
      const [statement] = (await recordStatements(store.db, () => store.list({ tag: "release-42", limit: 25, offset: 0 }))).filter((q) => q.sql.includes("ph_tasks"));
      const plan = await explain(store.db, statement!, { analyze: true });
      // Three tagged tasks, read for the count and for the page: a handful of rows, not 2,004.
      expect(rowsRead(plan, "ph_tasks")).toBeLessThanOrEqual(6);
    });

    it("keeps a tag's rows with its task: a refused task's too, gone with the retention cleanup; tasks tagged before the table get theirs", async () => {
      const { store } = await openStore();
      const manager = testManager(store);
      const kept = (await manager.enqueueTask({ type: "cli", title: "kept", command: "true", tags: ["t1"] })).task.id;
      const refused = await manager.rejectTask({ type: "cli", title: "refused", command: "true", tags: ["t1", "t2"] }, { kind: "fatal", code: "invalid_task", message: "refused for the test" });
      expect(refused?.status).toBe("cancelled");
      expect((await manager.listTasks({ tag: "t2", limit: 25, offset: 0 })).tasks.map((t) => t.id)).toEqual([refused!.id]);
      expect(await tagRows(store)).toEqual([`t1 ${kept}`, `t1 ${refused!.id}`, `t2 ${refused!.id}`].sort());

      // The refused task ended long ago: the cleanup takes it and its tags, not the pending one's.
      await store.db.query("UPDATE ph_tasks SET finished_at = now() - interval '2 days' WHERE id = $1", [refused!.id]);
      expect(await store.deleteExpired(24 * 3600 * 1000)).toBe(1);
      expect(await tagRows(store)).toEqual([`t1 ${kept}`]);

      // A store migrated from before 025: its tasks' tags come from their params.
      await store.db.query("DELETE FROM ph_task_tags");
      await store.db.query(tagMigration.at(-1)!);
      expect((await manager.listTasks({ tag: "t1", limit: 25, offset: 0 })).tasks.map((t) => t.id)).toEqual([kept]);
    });
  });
}
