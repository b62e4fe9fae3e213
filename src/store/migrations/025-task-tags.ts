/**
 * A task's tags get a table of their own, indexed by tag.
 *
 * Why: the tag filter (`ph-tasks list --tag`, the dashboard's, retry / cancel by tag) read the tags
 * out of each task's params, newest first, until it had a page — every retained task when few carry
 * the tag: ~Xms per refresh with 1,000,000 kept on PostgreSQL (see the README's benchmarks). Here a
 * tag's tasks are one index range, read newest first (ids are time-ordered). An index on ph_tasks
 * itself would cost every claim and finish (each writes a new row version and its index entries);
 * this table is written once, when a tagged task is inserted, and emptied by the retention cleanup.
 * The tags stay in params too (what the API shows); this table is only the way to find them.
 */
export const name = "task-tags";

/** A task's tags as rows; `source` is a relation with id and params (the tasks just inserted, or all). */
export const tagRowsFrom = (source: string) =>
  `SELECT s.id, tag FROM ${source} s, jsonb_array_elements_text(s.params->'tags') AS tag WHERE jsonb_typeof(s.params->'tags') = 'array'`;

export const statements = [
  // No foreign key: its check would run on every update of ph_tasks (claims and finishes).
  `CREATE TABLE ph_task_tags (
     tag     text NOT NULL,
     task_id text NOT NULL,
     PRIMARY KEY (tag, task_id)
   )`,
  // The cleanup removes a deleted task's tags by its id.
  "CREATE INDEX ph_task_tags_task ON ph_task_tags (task_id)",
  `INSERT INTO ph_task_tags (task_id, tag) ${tagRowsFrom("ph_tasks")} ON CONFLICT DO NOTHING`,
];
