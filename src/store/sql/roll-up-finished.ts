import type { Queryable } from "../db.js";
import { RUN_BUCKET_SQL, runBlockSql } from "../run-time-buckets.js";

/**
 * How far back a rollup reads (the first one, or the first after nobody read the stats for a
 * while): the stats read the last hour, their run times in whole ten-minute blocks.
 */
export const ROLLUP_REACH_MINUTES = 80;
/**
 * How long the rolled-up rows are kept. Longer than the reach, so that a row this statement adds
 * to is never one it deletes (a row may be changed only once per statement).
 */
const ROLLUP_KEEP_MINUTES = 120;
/**
 * Ends are rolled up once they are this old, and never past the start of the oldest transaction in
 * flight (sql/select-rollup-mark.ts): a finish's finished_at is its transaction's start, so one
 * still uncommitted when the rollup reads would otherwise be missed for good.
 */
export const SETTLE_SECONDS = 15;
/** No rollup for less than this much new time (several dashboards refreshing every 2 s share one). */
export const MIN_STEP_SECONDS = 5;

/**
 * Rolls the tasks that ended from `through` to `upTo` (the mark and the bound read by
 * sql/select-rollup-mark.ts) into ph_finished_minutes, ph_failure_minutes and ph_run_times, moves the
 * mark to `upTo`, and drops rows past ROLLUP_KEEP_MINUTES — once, when several workers do it at the
 * same time: the mark moves only from the value read, so the second one's update finds it moved
 * (after waiting for the first to commit) and its statement inserts nothing. Returns whether this
 * call did the rollup.
 */
export async function rollUpFinished(db: Queryable, through: Date, upTo: Date): Promise<boolean> {
  const { rows } = await db.query<{ moved: number }>(
    `WITH moved AS (
       UPDATE ph_finished_rollup SET through = $2::timestamptz WHERE through = $1::timestamptz AND $2::timestamptz > through RETURNING 1
     ), ended AS (
       SELECT t.id, t.finished_at, t.type, t.status, t.run_ms, t.error FROM ph_tasks t
       WHERE t.finished_at >= greatest($1::timestamptz, now() - interval '${ROLLUP_REACH_MINUTES} minutes') AND t.finished_at < $2::timestamptz
         AND EXISTS (SELECT 1 FROM moved)
     ), counted AS (
       INSERT INTO ph_finished_minutes (minute, type, status, count)
       SELECT date_trunc('minute', finished_at), type, status, count(*) FROM ended GROUP BY 1, 2, 3
       ON CONFLICT (minute, type, status) DO UPDATE SET count = ph_finished_minutes.count + excluded.count
     ), failed AS (
       INSERT INTO ph_failure_minutes AS f (minute, type, code, count, last_at, last_message, last_task_id)
       SELECT date_trunc('minute', finished_at), type, coalesce(error->>'code', 'unknown'), count(*), max(finished_at),
              (array_agg(coalesce(error->>'message', '') ORDER BY finished_at DESC, id DESC))[1], (array_agg(id ORDER BY finished_at DESC, id DESC))[1]
       FROM ended WHERE status = 'failed' GROUP BY 1, 2, 3
       ON CONFLICT (minute, type, code) DO UPDATE SET count = f.count + excluded.count,
         last_at = greatest(f.last_at, excluded.last_at),
         last_message = CASE WHEN (excluded.last_at, excluded.last_task_id) > (f.last_at, f.last_task_id) THEN excluded.last_message ELSE f.last_message END,
         last_task_id = CASE WHEN (excluded.last_at, excluded.last_task_id) > (f.last_at, f.last_task_id) THEN excluded.last_task_id ELSE f.last_task_id END
     ), timed AS (
       INSERT INTO ph_run_times (block, type, run_bucket, count)
       SELECT ${runBlockSql("t.finished_at")}, t.type, ${RUN_BUCKET_SQL}, count(*) FROM ended t
       WHERE t.status = 'completed' AND t.run_ms IS NOT NULL GROUP BY 1, 2, 3
       ON CONFLICT (block, type, run_bucket) DO UPDATE SET count = ph_run_times.count + excluded.count
     ), dropped_counts AS (
       DELETE FROM ph_finished_minutes WHERE minute < now() - interval '${ROLLUP_KEEP_MINUTES} minutes' AND EXISTS (SELECT 1 FROM moved)
     ), dropped_failures AS (
       DELETE FROM ph_failure_minutes WHERE minute < now() - interval '${ROLLUP_KEEP_MINUTES} minutes' AND EXISTS (SELECT 1 FROM moved)
     ), dropped_times AS (
       DELETE FROM ph_run_times WHERE block < now() - interval '${ROLLUP_KEEP_MINUTES} minutes' AND EXISTS (SELECT 1 FROM moved)
     )
     SELECT count(*)::int AS moved FROM moved`,
    [through, upTo],
  );
  return (rows[0]?.moved ?? 0) > 0;
}
