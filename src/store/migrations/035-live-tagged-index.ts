/**
 * The live tasks that carry tags, through an index of their own.
 *
 * Why: the pipeline list's status filter (`GET /api/pipelines?status=running`, the dashboard's
 * filter) worked each pipeline's status out newest first until its page was full — through every
 * pipeline kept when few have the status asked for, as pending, running and blocked ones are:
 * 290–310 ms at 50,000 pipelines on PostgreSQL. Those three statuses need a step pending or
 * running, and every step's task carries the tag `pipeline:<id>`, so the pipelines to look at are
 * those of the live tagged tasks — found here without reading the rest of the queue. A task
 * without tags (most, and every one of the claim's hot path) has no entry: the claim and the
 * finish only test the predicate.
 */
export const name = "live-tagged-index";

export const statements = ["CREATE INDEX IF NOT EXISTS ph_tasks_live_tagged ON ph_tasks (id) WHERE status IN ('pending', 'running') AND params ? 'tags'"];
