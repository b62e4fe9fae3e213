import type { Queryable } from "../../db.js";
import { NOT_HELD } from "../write-back-sql.js";

/**
 * Rule tasks that have ended with their end not written back and not held by a writer (never
 * taken — the worker that ended it stopped first — or taken by one whose lease ran out: it
 * stopped between taking and writing). Through the partial index of the rows not written
 * (migration 033): the rule tasks still queued or running, and these.
 */
export async function selectUnwrittenRuleResults(db: Queryable, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ task_id: string }>(
    `SELECT r.task_id FROM ph_rule_results r JOIN ph_tasks t ON t.id = r.task_id
     WHERE r.written_status IS NULL AND ${NOT_HELD("r")} AND t.status IN ('completed', 'failed', 'cancelled')
     ORDER BY r.task_id LIMIT $1`,
    [limit],
  );
  return rows.map((r) => r.task_id);
}
