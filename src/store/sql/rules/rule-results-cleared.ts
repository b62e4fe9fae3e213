import { WRITE_BACK_CLEARED } from "../write-back-sql.js";

/**
 * A CTE for a statement that queues `changed` tasks again (a retry): a rule task's next end is
 * written back to its document, the same one included — also when a writer still holds this one
 * (its mark no longer matches, so it cannot mark the next end written).
 */
export function ruleResultsCleared(changed: string): string {
  return `rule_results_cleared AS (
       UPDATE ph_rule_results SET ${WRITE_BACK_CLEARED}
       WHERE task_id IN (SELECT id FROM ${changed}) AND (written_status IS NOT NULL OR writing_end IS NOT NULL)
     )`;
}
