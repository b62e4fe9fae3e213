/**
 * Where the write-back sweep looks (migration 034, sweep-cursor.ts), on PGlite and PostgreSQL: from
 * a time, it finds the rule tasks and rule pipelines that ended since then and those whose
 * writer's lease ran out — not the ones that ended earlier, are still queued or are held by a
 * writer; its whole look finds every end not written. The cursor: a whole look at start and every
 * few minutes, a look from the last one (less a margin) between, the same place again after a
 * full page.
 */
import { describe, expect, it } from "vitest";
import { SweepCursor } from "../src/rules/sweep-cursor.js";
import { PipelineStore } from "../src/store/pipeline-store.js";
import { RuleResultStore } from "../src/store/rule-result-store.js";
import { testManager } from "./support/manager.js";
import { BACKENDS } from "./support/stores.js";

const AN_HOUR_AGO = "now() - interval '1 hour'";

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`the write-back sweep's look on ${backend.name}`, () => {
    it("from a time: the ends since then and the leases run out; whole: every end not written", async () => {
      const { store, cleanup } = await backend.open();
      try {
        const manager = testManager(store); // not started: the ends are set by hand below
        const results = new RuleResultStore(store.db);
        const names = ["recent", "long-ago", "queued", "lease-ran-out", "held", "written"] as const;
        const stored = await manager.enqueueTasks(names.map((title) => ({ type: "cli", title, command: "true" })), { within: (tx, rows) => results.insert(tx, rows.map((r) => r.id)) });
        const id = Object.fromEntries(names.map((name, i) => [name, stored[i]!.task.id])) as Record<(typeof names)[number], string>;
        const end = (taskId: string, at: string) => store.db.query(`UPDATE ph_tasks SET status = 'completed', finished_at = ${at} WHERE id = $1`, [taskId]);
        await end(id.recent, "now()");
        await end(id["long-ago"], AN_HOUR_AGO); // its transaction committed long after it began
        await end(id["lease-ran-out"], AN_HOUR_AGO);
        await end(id.held, "now()");
        await end(id.written, "now()");
        await store.db.query("UPDATE ph_rule_results SET writing_end = 'x', writing_until = now() - interval '1 second' WHERE task_id = $1", [id["lease-ran-out"]]);
        await store.db.query("UPDATE ph_rule_results SET writing_end = 'x', writing_until = now() + interval '1 minute' WHERE task_id = $1", [id.held]);
        await store.db.query("UPDATE ph_rule_results SET written_status = 'completed' WHERE task_id = $1", [id.written]);

        const since = new Date(Date.now() - 60_000);
        const recent = await results.unwritten(100, since);
        expect(new Set(recent.ids)).toEqual(new Set([id.recent, id["lease-ran-out"]]));
        expect(Math.abs(recent.at.getTime() - Date.now())).toBeLessThan(60_000); // the database's clock
        expect(new Set((await results.unwritten(100)).ids)).toEqual(new Set([id.recent, id["long-ago"], id["lease-ran-out"]]));
        expect((await results.unwritten(1)).ids).toHaveLength(1);

        // Pipelines of a rule: found through their steps' ends (the steps' pipeline tags).
        const pipelines = new PipelineStore(store.db);
        const pipelineOf = async (name: string, stepEnd: string | undefined, origin = "rule:x") => {
          const pid = `pipe-${name}`;
          const [step] = await manager.enqueueTasks([{ type: "cli", title: name, command: "true", tags: [`pipeline:${pid}`] }]);
          const taskId = step!.task.id;
          if (stepEnd) await end(taskId, stepEnd);
          await pipelines.insert(store.db, { id: pid, title: name, origin, idempotency_key: null, steps: [{ name: "only", taskId, after: [] }], task_ids: [taskId] });
          return pid;
        };
        const p = {
          recent: await pipelineOf("recent", "now()"),
          longAgo: await pipelineOf("long-ago", AN_HOUR_AGO),
          running: await pipelineOf("running", undefined),
          leaseRanOut: await pipelineOf("lease-ran-out", AN_HOUR_AGO),
          notRules: await pipelineOf("from-the-api", "now()", "api"),
        };
        await store.db.query("UPDATE ph_pipelines SET writing_end = 'x', writing_until = now() - interval '1 second' WHERE id = $1", [p.leaseRanOut]);
        expect(new Set((await pipelines.unwrittenRuleEnds(100, since)).ids)).toEqual(new Set([p.recent, p.leaseRanOut]));
        expect(new Set((await pipelines.unwrittenRuleEnds(100)).ids)).toEqual(new Set([p.recent, p.longAgo, p.leaseRanOut]));
      } finally {
        await cleanup();
      }
    });
  });
}

describe("the write-back sweep's cursor", () => {
  it("looks at everything first and every few minutes, from its last look (less a margin) between, from the same place after a full page", () => {
    let now = 1_000_000;
    const cursor = new SweepCursor(300_000, 10_000, () => now);
    expect(cursor.from()).toBeUndefined();
    cursor.looked(undefined, 20, 20, new Date(now)); // a full page: more to read
    expect(cursor.from()).toBeUndefined();
    cursor.looked(undefined, 3, 20, new Date(now + 5)); // the database's clock, a little ahead
    expect(cursor.from()).toEqual(new Date(now + 5 - 10_000));
    now += 2000;
    const from = cursor.from();
    cursor.looked(from, 20, 20, new Date(now));
    expect(cursor.from()).toEqual(from);
    cursor.looked(from, 0, 20, new Date(now));
    expect(cursor.from()).toEqual(new Date(now - 10_000));
    now += 300_000;
    expect(cursor.from()).toBeUndefined(); // every five minutes, a whole look
  });
});
