/**
 * A trigger rule's task writes its onResult back to the document that asked for it once it ends —
 * on the worker that ended it. Until now a worker that stopped between recording the end and
 * writing it left the document without its result for good (a rule's pipeline had its sweep,
 * migration 032's `written_status`; a single task had nothing).
 *
 * A row per rule task with an onResult, inserted with the task (same transaction): `written_status`
 * is the end last taken for writing back (null: none since it last ran). The worker that ends the
 * task takes it before writing; every agent with rules sweeps, every couple of seconds, the rows
 * whose task has ended and whose end nobody took (rule-runner.ts). A retry clears it, so the next
 * end is written again. Removed with its task (retention).
 * Additive: an older agent neither inserts rows (its rule tasks are not swept) nor reads them.
 */
export const name = "rule-results";

export const statements = [
  `CREATE TABLE ph_rule_results (
     task_id        text PRIMARY KEY REFERENCES ph_tasks (id) ON DELETE CASCADE,
     written_status text
   )`,
  // The sweep reads only the rows not written yet (tasks queued or running, and those it is for).
  "CREATE INDEX ph_rule_results_unwritten ON ph_rule_results (task_id) WHERE written_status IS NULL",
];
