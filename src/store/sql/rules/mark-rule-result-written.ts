import type { Queryable } from "../../db.js";

/**
 * The end was written back (or there is nothing to write for it): `status` goes in written_status
 * and the lease is let go. With `mark`, only while that end is still the one taken (a retry since
 * cleared it, and the next end is to be written); without, whatever was taken (a task whose rule
 * is gone).
 */
export async function markRuleResultWritten(db: Queryable, taskId: string, status: string, mark?: string): Promise<void> {
  await db.query(
    `INSERT INTO ph_rule_results AS r (task_id, written_status) VALUES ($1, $2)
     ON CONFLICT (task_id) DO UPDATE SET written_status = EXCLUDED.written_status, writing_end = NULL, writing_until = NULL
     WHERE $3::text IS NULL OR r.writing_end = $3`,
    [taskId, status, mark ?? null],
  );
}
