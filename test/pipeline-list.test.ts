/**
 * The pipeline list's status filter (`GET /api/pipelines?status=`, `ph-tasks pipeline list --status`),
 * on PGlite and PostgreSQL: the status SQL gives each pipeline agrees with the one its view shows
 * (pipelineStatus) on every mix of up to three step statuses — a removed task and an approval
 * awaiting a decision included, and pending approvals not asked for yet or decided —, pages
 * newest first, and a status that does not exist is refused naming the allowed ones; the end
 * written back to a rule's document is taken by one caller of several at once.
 */
import { describe, expect, it } from "vitest";
import { createApp, listen } from "../src/http/server.js";
import { silentLogger } from "../src/logger.js";
import { PIPELINE_STATUSES, pipelineStatus } from "../src/pipelines/pipeline-service.js";
import { PipelineStore } from "../src/store/pipeline-store.js";
import type { StepCondition } from "../src/pipelines/pipeline-service.js";
import { cliRegistry, testManager } from "./support/manager.js";
import { ApprovalExecutor } from "../src/tasks/executors/approval-executor.js";
import { BACKENDS } from "./support/stores.js";

type StepStatus = StepCondition;
const STEP_STATUSES: StepStatus[] = ["pending", "running", "completed", "failed", "cancelled", "removed", "awaiting_decision"];

/** Every multiset of 1 to 3 step statuses. */
function mixes(): StepStatus[][] {
  const out: StepStatus[][] = [];
  const grow = (mix: StepStatus[], from: number) => {
    if (mix.length > 0) out.push(mix);
    if (mix.length === 3) return;
    for (let i = from; i < STEP_STATUSES.length; i++) grow([...mix, STEP_STATUSES[i]!], i);
  };
  grow([], 0);
  return out;
}

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`the pipeline list on ${backend.name}`, () => {
    it("filters by the status the steps give, as the view tells it, for every mix of step statuses; pages newest first; refuses an unknown status", async () => {
      const { store, cleanup } = await backend.open();
      const manager = testManager(store, {}, cliRegistry().register(new ApprovalExecutor())); // not started: the statuses are set by hand below
      const { server, url } = await listen(createApp({ manager, metrics: manager.metrics!, logger: silentLogger() }), "127.0.0.1", 0, undefined);
      try {
        const pipelines = new PipelineStore(store.db);
        const expected = new Map<string, string>();
        // Tasks of no pipeline, live and ended, with and without tags: in no page.
        const others = await manager.enqueueTasks(["pending", "running", "failed", "cancelled"].flatMap((status) => [
          { type: "cli", title: `other ${status}`, command: "true" },
          { type: "cli", title: `other tagged ${status}`, command: "true", tags: ["release-1"] },
        ]));
        for (const [i, { task }] of others.entries()) await store.db.query("UPDATE ph_tasks SET status = $2 WHERE id = $1", [task.id, ["pending", "running", "failed", "cancelled"][Math.floor(i / 2)]]);
        for (const [n, mix] of mixes().entries()) {
          const kept = mix.filter((s) => s !== "removed");
          const id = `0000-${String(n).padStart(4, "0")}`;
          // Tagged as the pipeline service tags its steps (the filter finds live, failed and
          // cancelled pipelines through these tags), one beside a tag of its own.
          const tags = n % 2 ? [`pipeline:${id}`] : ["release-1", `pipeline:${id}`];
          // An approval for each step awaiting a decision (asked for, undecided), and for some pending
          // steps one not asked for yet or decided already: those count as pending.
          const approval = (status: StepStatus) => status === "awaiting_decision" || (status === "pending" && n % 3 !== 0);
          const stored = await manager.enqueueTasks(kept.map((status, i) => (approval(status) ? { type: "approval", title: `p${n} s${i}`, tags } : { type: "cli", title: `p${n} s${i}`, command: "true", tags })));
          const ids = stored.map((s) => s.task.id);
          for (const [i, status] of kept.entries()) {
            const params = status === "awaiting_decision" ? { asked: "2026-12-06T00:00:00Z" } : status === "pending" && n % 3 === 2 ? { asked: "2026-12-06T00:00:00Z", decision: { approved: true, by: "t", at: "2026-12-06T00:00:01Z" } } : {};
            await store.db.query("UPDATE ph_tasks SET status = $2, params = params || $3::jsonb WHERE id = $1", [ids[i], status === "awaiting_decision" ? "pending" : status, JSON.stringify(params)]);
          }
          const taskIds = [...ids, ...mix.filter((s) => s === "removed").map((_, i) => `gone-${n}-${i}`)];
          await pipelines.insert(store.db, { id, title: mix.join(","), origin: "test", idempotency_key: null, steps: taskIds.map((taskId, i) => ({ name: `s${i}`, taskId, after: [] })), task_ids: taskIds });
          expected.set(id, pipelineStatus(mix));
        }
        const list = async (query: string) => {
          const res = await fetch(`${url}/api/pipelines?${query}`);
          return { status: res.status, body: (await res.json()) as { pipelines?: { id: string; status: string }[]; errors?: { field: string; message: string }[] } };
        };
        for (const status of PIPELINE_STATUSES) {
          const want = [...expected].filter(([, s]) => s === status).map(([id]) => id).sort().reverse();
          const got = (await list(`status=${status}&limit=200`)).body.pipelines ?? [];
          expect(got.map((p) => p.id), status).toEqual(want);
          // Each as its view says: the SQL and pipelineStatus agree.
          expect(new Set(got.map((p) => p.status)), status).toEqual(new Set(want.length > 0 ? [status] : []));
        }
        expect(new Set(expected.values()).size).toBe(PIPELINE_STATUSES.length); // every status was reached
        const failed = [...expected].filter(([, s]) => s === "failed").map(([id]) => id).sort().reverse();
        expect(((await list("status=failed&limit=2&offset=1")).body.pipelines ?? []).map((p) => p.id)).toEqual(failed.slice(1, 3));
        // The end written back to a rule's document: of five callers at once, one takes it (for a
        // lease); not taken at an end the pipeline is not at; taken again once the lease ran out
        // (its writer stopped), the same end's mark; not once marked written (a retry's: rule-pipelines.test.ts).
        const done = [...expected].find(([, s]) => s === "completed")![0];
        const takes = await Promise.all(Array.from({ length: 5 }, () => pipelines.takeWrittenStatus(done, "completed", 60_000)));
        const taken = takes.filter((mark) => mark !== undefined);
        expect(taken).toHaveLength(1);
        expect(taken[0]).toMatch(/^completed@\d*$/); // and the microsecond its last step ended (none here: set by hand)
        expect(await pipelines.takeWrittenStatus(done, "completed", 60_000)).toBeUndefined();
        expect(await pipelines.takeWrittenStatus(done, "failed", 60_000)).toBeUndefined();
        const [other] = [...expected].filter(([id, s]) => s === "completed" && id !== done).map(([id]) => id);
        const first = await pipelines.takeWrittenStatus(other!, "completed", 1);
        expect(first).toBeDefined();
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(await pipelines.takeWrittenStatus(other!, "completed", 60_000)).toBe(first);
        await pipelines.markWritten(done, "completed", taken[0]);
        expect(await pipelines.takeWrittenStatus(done, "completed", 1)).toBeUndefined();
        const bad = await list("status=done");
        expect(bad.status).toBe(400);
        expect(bad.body.errors).toEqual([expect.objectContaining({ field: "status", message: "must be one of pending, running, awaiting_approval, blocked, completed, failed, cancelled" })]);
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        await cleanup();
      }
    });
  });
}
