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
 * Additive: an older agent still takes `written_status` first (at most once), as before.
 */
export const name = "write-back-leases";

export const statements = [
  "ALTER TABLE ph_rule_results ADD COLUMN writing_end text",
  "ALTER TABLE ph_rule_results ADD COLUMN writing_until timestamptz",
  "ALTER TABLE ph_pipelines ADD COLUMN writing_end text",
  "ALTER TABLE ph_pipelines ADD COLUMN writing_until timestamptz",
];
