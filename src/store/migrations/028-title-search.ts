/**
 * The tasks' titles get a table of their own, with a trigram index where pg_trgm can be had.
 *
 * Why: a title search (`ph-tasks list --search`, the dashboard's search box, refreshed every 2 s
 * while it is applied) read the retained tasks newest first until it had its page and its count —
 * every one of them when few or none match: 1.2 s with 1,000,000 kept on PostgreSQL. A trigram index
 * finds the few that match at once (28 ms; none: 1 ms). On ph_tasks itself it would cost every claim
 * and finish (each writes a new row version and its index entries, a GIN index too); this table is
 * written once, when a task is inserted, and emptied by the retention cleanup — as the tags (025).
 *
 * pg_trgm ships with PostgreSQL (contrib) and is a trusted extension, so the database owner may
 * create it; where it cannot be created the search still works, reading the titles whole, and
 * `CREATE EXTENSION pg_trgm` plus the index below, run by hand, add it later. It is created in
 * `public` (extensions are per database, and the stores of several schemas share it).
 */
export const name = "title-search";

/** The trigram index, in the schema pg_trgm lives in; nothing when pg_trgm is not installed. */
export const CREATE_TITLE_INDEX = `DO $$
DECLARE trgm_schema text;
BEGIN
  SELECT n.nspname INTO trgm_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
  IF trgm_schema IS NOT NULL THEN
    EXECUTE format('CREATE INDEX IF NOT EXISTS ph_task_titles_trgm ON ph_task_titles USING gin (title %I.gin_trgm_ops)', trgm_schema);
  END IF;
END $$`;

export const statements = [
  // No foreign key: its check would run on every update of ph_tasks (claims and finishes).
  `CREATE TABLE ph_task_titles (
     task_id text PRIMARY KEY,
     title   text NOT NULL
   )`,
  "INSERT INTO ph_task_titles (task_id, title) SELECT id, title FROM ph_tasks",
  // In a block of its own: where the extension cannot be created, the migration goes on without it.
  `DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
    CREATE EXTENSION pg_trgm SCHEMA public;
  END IF;
EXCEPTION WHEN OTHERS THEN
  RAISE NOTICE 'pg_trgm could not be created (%): title searches read every title', SQLERRM;
END $$`,
  CREATE_TITLE_INDEX,
];
