/**
 * A CTE for a statement that queues `changed` tasks again (a retry): a rule task's next end is
 * written back to its document, the same one included.
 */
export function ruleResultsCleared(changed: string): string {
  return `rule_results_cleared AS (
       UPDATE ph_rule_results SET written_status = NULL
       WHERE task_id IN (SELECT id FROM ${changed}) AND written_status IS NOT NULL
     )`;
}
