import type { Queryable } from "../db.js";
import { RUN_BUCKET_SQL, runBlockSql } from "../run-time-buckets.js";

/** How many completed runs of a type took a run time within one bucket (run-time-buckets.ts). */
export interface RunTimeRow {
  type: string;
  run_bucket: number;
  count: number;
}

/**
 * The run times of the tasks that completed in the ten-minute blocks covering the last `minutes`:
 * the rolled-up blocks (ph_run_times) up to the rollup's mark, the rest from ph_tasks through the
 * finished_at index, as sql/select-finished-minutes.ts reads the ends.
 */
export async function selectRunTimes(db: Queryable, minutes: number, through: Date): Promise<RunTimeRow[]> {
  const start = runBlockSql("now() - make_interval(mins => $1::int)");
  const { rows } = await db.query<{ type: string; run_bucket: number; count: string | number }>(
    `SELECT type, run_bucket, sum(count) AS count FROM (
       SELECT type, run_bucket, count FROM ph_run_times WHERE block >= ${start}
       UNION ALL
       SELECT t.type, ${RUN_BUCKET_SQL}, count(*) FROM ph_tasks t
       WHERE t.finished_at >= greatest($2::timestamptz, ${start}) AND t.status = 'completed' AND t.run_ms IS NOT NULL
       GROUP BY 1, 2
     ) runs
     GROUP BY 1, 2`,
    [minutes, through],
  );
  return rows.map((r) => ({ type: r.type, run_bucket: Number(r.run_bucket), count: Number(r.count) }));
}
