import type { Queryable } from "../db.js";
import { RUN_ENTRIES_CLEARED, runEntriesWrittenOut, statusEntriesFrom } from "./status-entries.js";

/**
 * Why tasks went back: the worker stopped ("shutdown"), a claimed task waited too long for a
 * slot of a busy worker ("not started": prefetch, see claim-pump.ts), or its drive's daily budget
 * is spent, or that of the person who asked ("drive budget spent", "person budget spent": it waits
 * until that has room, holder-budget.ts).
 */
export type ReleaseReason = "shutdown" | "not started" | "drive budget spent" | "person budget spent";

/**
 * Returns a worker's running tasks to the queue at once (graceful shutdown): the interrupted
 * attempt does not count, the task keeps its rank. Returns the ids released. The run's "running"
 * entry is written out and the "pending" entry goes in with the change, before another worker
 * can claim them. `afterMs`: claimable again only that long from now (the store's clock).
 */
export async function releaseTasks(db: Queryable, workerId: string, ids: readonly string[], reason: ReleaseReason = "shutdown", afterMs = 0): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `WITH locked AS (
       SELECT * FROM ph_tasks WHERE id = ANY($2::text[]) AND status = 'running' AND locked_by = $1 FOR UPDATE
     ), changed AS (
       UPDATE ph_tasks t
       SET status = 'pending', attempts = greatest(t.attempts - 1, 0), run_at = now() + make_interval(secs => $4::float8 / 1000.0), locked_by = NULL,
           lease_expires_at = NULL, updated_at = now(), ${RUN_ENTRIES_CLEARED}
       FROM locked WHERE t.id = locked.id
       RETURNING t.id
     ), ${runEntriesWrittenOut("locked")}, ${statusEntriesFrom("changed", `json_build_object('status', 'pending', 'reason', $3::text)::text`)}
     SELECT id FROM changed`,
    [workerId, ids, reason, afterMs],
  );
  return rows.map((r) => r.id);
}
