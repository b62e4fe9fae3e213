import type { Queryable } from "../db.js";

/** How many tasks of a type ended one way in a minute. */
export interface FinishedMinuteRow {
  minute: Date;
  type: string;
  status: string;
  count: number;
}

/** The first minute of a window of `$1` whole minutes before the current one, in SQL (the ends' and the failures' reads). */
export const WINDOW_START = "date_trunc('minute', now() - make_interval(mins => $1::int))";

/**
 * The tasks that ended in the last `minutes` whole minutes and the current one: the rolled-up
 * minutes (ph_finished_minutes) up to the rollup's mark, the rest from ph_tasks through the
 * finished_at index — seconds of ends, not the hour's, when the rollup is kept up (see
 * sql/roll-up-finished.ts). Both halves read the mark in one snapshot, so no end counts twice.
 */
export async function selectFinishedMinutes(db: Queryable, minutes: number, through: Date): Promise<FinishedMinuteRow[]> {
  const { rows } = await db.query<{ minute: Date; type: string; status: string; count: string | number }>(
    `SELECT minute, type, status, sum(count) AS count FROM (
       SELECT minute, type, status, count FROM ph_finished_minutes WHERE minute >= ${WINDOW_START}
       UNION ALL
       SELECT date_trunc('minute', finished_at), type, status, count(*) FROM ph_tasks
       WHERE finished_at >= greatest($2::timestamptz, ${WINDOW_START})
       GROUP BY 1, 2, 3
     ) ends
     GROUP BY 1, 2, 3 ORDER BY 1`,
    [minutes, through],
  );
  return rows.map((r) => ({ minute: r.minute, type: r.type, status: r.status, count: Number(r.count) }));
}
