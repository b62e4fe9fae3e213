import type { Queryable } from "../../db.js";

/**
 * Takes the writing of a rule task's end (`status`) back to its document: true for the one caller
 * that changes written_status to it, false for any other (the row lock makes the worker that ended
 * the task and a sweep that saw it at the same instant take turns; the second finds it taken). A
 * task with no row (enqueued by an agent before migration 033) gets one.
 */
export async function takeRuleResult(db: Queryable, taskId: string, status: string): Promise<boolean> {
  const { affectedRows } = await db.query(
    `INSERT INTO ph_rule_results (task_id, written_status) VALUES ($1, $2)
     ON CONFLICT (task_id) DO UPDATE SET written_status = EXCLUDED.written_status
     WHERE ph_rule_results.written_status IS DISTINCT FROM EXCLUDED.written_status`,
    [taskId, status],
  );
  return affectedRows === 1;
}
