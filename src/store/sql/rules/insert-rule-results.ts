import type { Queryable } from "../../db.js";

/** Rule tasks whose end is to be written back (migration 033), in the transaction that inserts them. */
export async function insertRuleResults(db: Queryable, taskIds: readonly string[]): Promise<void> {
  if (taskIds.length === 0) return;
  await db.query("INSERT INTO ph_rule_results (task_id) SELECT unnest($1::text[]) ON CONFLICT (task_id) DO NOTHING", [taskIds]);
}
