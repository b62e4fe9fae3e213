import type { Queryable } from "../../db.js";
import { END_MARK } from "../write-back-sql.js";

/**
 * Takes the writing of a rule task's end (`status`) back to its document for `leaseMs`: returns
 * the end's mark (its status and when it ended, see write-back-sql.ts) to the one caller that
 * takes it, undefined to any other — the end is written, another writer holds it, or the task
 * is no longer at that end. Migration 034: a writer that took the end and then stopped loses it
 * when the lease runs out, and the sweep takes it. A task with no row (enqueued by an agent
 * before migration 033) gets one.
 */
export async function takeRuleResult(db: Queryable, taskId: string, status: string, leaseMs: number): Promise<string | undefined> {
  const { rows } = await db.query<{ writing_end: string }>(
    `INSERT INTO ph_rule_results AS r (task_id, writing_end, writing_until)
     SELECT t.id, ${END_MARK("t")}, now() + make_interval(secs => $3 / 1000.0) FROM ph_tasks t WHERE t.id = $1 AND t.status = $2
     ON CONFLICT (task_id) DO UPDATE SET writing_end = EXCLUDED.writing_end, writing_until = EXCLUDED.writing_until
     WHERE r.written_status IS NULL AND (r.writing_until IS NULL OR r.writing_until < now() OR r.writing_end IS DISTINCT FROM EXCLUDED.writing_end)
     RETURNING r.writing_end`,
    [taskId, status, leaseMs],
  );
  return rows[0]?.writing_end;
}
