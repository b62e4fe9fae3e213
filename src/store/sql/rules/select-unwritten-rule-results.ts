import type { Queryable } from "../../db.js";
import { NOT_HELD, type UnwrittenEnds } from "../write-back-sql.js";

const ENDED = "t.status IN ('completed', 'failed', 'cancelled')";

/**
 * Rule tasks that have ended with their end not written back and not held by a writer: never
 * taken (the worker that ended it stopped first), or taken by one whose lease ran out (it stopped
 * between taking and writing). With `since`, only those that ended since then (through
 * ph_tasks_finished) and those whose writer's lease ran out (through ph_rule_results_held,
 * migration 034): the cost follows the ends, not the queue. Without, every rule task not written
 * (the partial index of migration 033: the queued and running ones too) — at start, and now and
 * then in case an end's transaction committed long after it began. `at`: the database's clock,
 * for the next look's `since`.
 */
export async function selectUnwrittenRuleResults(db: Queryable, limit: number, since?: Date): Promise<UnwrittenEnds> {
  const candidates = since
    ? `SELECT r.task_id FROM ph_tasks t JOIN ph_rule_results r ON r.task_id = t.id
       WHERE t.finished_at >= $2 AND ${ENDED} AND r.written_status IS NULL AND ${NOT_HELD("r")}
       UNION
       SELECT r.task_id FROM ph_rule_results r JOIN ph_tasks t ON t.id = r.task_id
       WHERE r.written_status IS NULL AND r.writing_until IS NOT NULL AND r.writing_until < now() AND ${ENDED}`
    : `SELECT r.task_id FROM ph_rule_results r JOIN ph_tasks t ON t.id = r.task_id
       WHERE r.written_status IS NULL AND ${NOT_HELD("r")} AND ${ENDED}`;
  const { rows } = await db.query<{ at: Date; ids: string[] }>(
    `SELECT now() AS at, ARRAY(SELECT c.task_id FROM (${candidates}) c ORDER BY c.task_id LIMIT $1) AS ids`,
    since ? [limit, since] : [limit],
  );
  return { at: rows[0]!.at, ids: rows[0]!.ids };
}
