import type { Queryable } from "../db.js";
import type { FailureReasonRow } from "./select-failure-reasons.js";
import { WINDOW_START } from "./select-finished-minutes.js";

/**
 * Why tasks failed for good in the last `minutes` whole minutes and the current one, as
 * sql/select-failure-reasons.ts answers for any stretch — per type and error code, how many and
 * the latest one, most frequent first, at most `limit` — but from the rolled-up minutes
 * (ph_failure_minutes) up to the rollup's mark `through` and the failures since, as
 * sql/select-finished-minutes.ts reads the ends.
 */
export async function selectRecentFailures(db: Queryable, minutes: number, through: Date, limit: number): Promise<FailureReasonRow[]> {
  const { rows } = await db.query<FailureReasonRow>(
    `SELECT type, code, sum(count)::int AS count, max(last_at) AS last_at,
            (array_agg(last_message ORDER BY last_at DESC, last_task_id DESC))[1] AS last_message,
            (array_agg(last_task_id ORDER BY last_at DESC, last_task_id DESC))[1] AS last_task_id
     FROM (
       SELECT type, code, count, last_at, last_message, last_task_id FROM ph_failure_minutes WHERE minute >= ${WINDOW_START}
       UNION ALL
       SELECT type, coalesce(error->>'code', 'unknown'), 1, finished_at, coalesce(error->>'message', ''), id FROM ph_tasks
       WHERE finished_at >= greatest($2::timestamptz, ${WINDOW_START}) AND status = 'failed'
     ) failures
     GROUP BY type, code
     ORDER BY count DESC, last_at DESC
     LIMIT $3`,
    [minutes, through, limit],
  );
  return rows;
}
