/**
 * Task ids are UUID v7 from here on (time-ordered, see new-task.ts), so the primary key gives the
 * listing's newest-first order and the (created_at, id) index goes: every claim and finish had to
 * write an entry into it (neither update can be HOT), 5 → 3 index entries per no-op task on
 * ph_tasks. Tasks created before this migration have random (v4) ids and sort among the others in
 * listings until retention removes them.
 */
export const name = "time-ordered-ids";

export const statements = ["DROP INDEX IF EXISTS ph_tasks_created"];
