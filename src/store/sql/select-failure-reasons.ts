import type { Queryable } from "../db.js";

/** Tasks of one type that failed for good with one error code since a time, and the latest of them. */
export interface FailureReasonRow {
  type: string;
  code: string;
  count: number;
  last_at: Date;
  last_message: string;
  last_task_id: string;
}

/**
 * Why tasks failed for good since `since`: per type and error code, how many, and the latest one's
 * message and id — most frequent first, at most `limit`. Read through the index of failed tasks by
 * finished_at (migration 027), so the cost follows the failures since then, not the retained
 * history or the other ends. (/api/stats reads its hour from the rollup: select-recent-failures.ts.)
 */
export async function selectFailureReasons(db: Queryable, since: Date, type: string | undefined, limit: number): Promise<FailureReasonRow[]> {
  const { rows } = await db.query<FailureReasonRow>(
    `SELECT type, coalesce(error->>'code', 'unknown') AS code, count(*)::int AS count, max(finished_at) AS last_at,
            (array_agg(coalesce(error->>'message', '') ORDER BY finished_at DESC, id DESC))[1] AS last_message,
            (array_agg(id ORDER BY finished_at DESC, id DESC))[1] AS last_task_id
     FROM ph_tasks
     WHERE finished_at >= $1::timestamptz AND status = 'failed' AND ($2::text IS NULL OR type = $2)
     GROUP BY type, coalesce(error->>'code', 'unknown')
     ORDER BY count DESC, last_at DESC
     LIMIT $3`,
    [since, type ?? null, limit],
  );
  return rows;
}
