/**
 * The last hour's ends, rolled up: ph_finished_minutes holds how many tasks of a type ended one
 * way in a minute; ph_failure_minutes how many failed for good with one error code, and the latest
 * of them; ph_run_times how many completed runs of a type fell in a run-time bucket, per ten
 * minutes; ph_finished_rollup the one instant up to which ph_tasks has been rolled up (see
 * sql/roll-up-finished.ts).
 *
 * Why: /api/stats (every 2 s while a dashboard is open) counted the last hour's ends, grouped them
 * per minute and took per-type percentiles of their run times straight from ph_tasks — its cost grew
 * with the hour's throughput: 1.9 s per refresh with 1,000,000 tasks ended in the hour on
 * PostgreSQL. Now only the ends since the rollup's mark (seconds of them) are read from ph_tasks;
 * the rest is a few rows per minute and type, and per ten minutes, type and bucket. The finish path
 * writes nothing more: the rollup is done by whoever reads the stats.
 *
 * The run times are kept in buckets (src/store/run-time-buckets.ts): the percentiles are within 5 %,
 * and cover the last hour in whole ten-minute blocks (60 to 70 minutes).
 *
 * `/api/failures` (any stretch, a day by default) reads the failed tasks themselves, through an
 * index of failed tasks by finished_at: a failure writes one entry to it, a completed run nothing.
 */
export const name = "finished-minutes";

export const statements = [
  `CREATE TABLE IF NOT EXISTS ph_finished_minutes (
     minute timestamptz NOT NULL,
     type text NOT NULL,
     status text NOT NULL,
     count bigint NOT NULL,
     PRIMARY KEY (minute, type, status)
   )`,
  `CREATE TABLE IF NOT EXISTS ph_failure_minutes (
     minute timestamptz NOT NULL,
     type text NOT NULL,
     code text NOT NULL,
     count bigint NOT NULL,
     last_at timestamptz NOT NULL,
     last_message text NOT NULL,
     last_task_id text NOT NULL,
     PRIMARY KEY (minute, type, code)
   )`,
  `CREATE TABLE IF NOT EXISTS ph_run_times (
     block timestamptz NOT NULL,
     type text NOT NULL,
     run_bucket integer NOT NULL,
     count bigint NOT NULL,
     PRIMARY KEY (block, type, run_bucket)
   )`,
  `CREATE TABLE IF NOT EXISTS ph_finished_rollup (
     one boolean PRIMARY KEY DEFAULT true CHECK (one),
     through timestamptz NOT NULL
   )`,
  // Nothing rolled up yet: the first rollup reads as far back as the stats look.
  "INSERT INTO ph_finished_rollup (one, through) VALUES (true, '-infinity') ON CONFLICT (one) DO NOTHING",
  "CREATE INDEX IF NOT EXISTS ph_tasks_failed_finished ON ph_tasks (finished_at) WHERE status = 'failed'",
];
