/**
 * A trigger rule's result is written back to its document at least once, and — through the
 * document's own history — not twice. Until now the end was taken (migrations 032, 033:
 * `written_status`) *before* it was written: a worker killed between the two lost that write.
 *
 * Now the taker holds a lease on the end it writes: `writing_end` names the end (its status and
 * when it ended, so that the end after a retry is another one) and `writing_until` is when a
 * writer that took it and never said it was done counts as gone. `written_status` is set only
 * after the write. The sweep takes the ends nobody holds (never taken, or the lease run out); the
 * operation written carries an action id made from the task (or pipeline) and that end, so a
 * writer that finds it already in the document's history (the one before it wrote, then died)
 * only marks it written. A retry clears all three.
 *
 * The sweep no longer reads every rule task not yet written (the queued and running ones included:
 * 80 ms at 50,000 queued rule tasks, every 2 s on every agent): it reads the ends since its last
 * look, through ph_tasks_finished, and the ends whose writer's lease ran out, through the two
 * partial indexes below — a whole look only at start and every few minutes (result-write-back.ts).
 * Additive: an older agent still takes `written_status` first (at most once), as before.
 */
export const name = "write-back-leases";

export const statements = [
  "ALTER TABLE ph_rule_results ADD COLUMN writing_end text",
  "ALTER TABLE ph_rule_results ADD COLUMN writing_until timestamptz",
  "ALTER TABLE ph_pipelines ADD COLUMN writing_end text",
  "ALTER TABLE ph_pipelines ADD COLUMN writing_until timestamptz",
  "CREATE INDEX ph_rule_results_held ON ph_rule_results (writing_until) WHERE written_status IS NULL AND writing_until IS NOT NULL",
  "CREATE INDEX ph_pipelines_held ON ph_pipelines (writing_until) WHERE written_status IS NULL AND writing_until IS NOT NULL",
];
