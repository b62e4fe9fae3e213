import type { Queryable } from "../db.js";

/** Tasks finished per minute and outcome over the last `minutes` (dashboard charts). */
export async function countFinishedPerMinute(db: Queryable, minutes: number): Promise<{ minute: Date; status: string; count: number }[]> {
  const { rows } = await db.query<{ minute: Date; status: string; count: string | number }>(
    `SELECT date_trunc('minute', finished_at) AS minute, status, count(*) AS count FROM ph_tasks
     WHERE finished_at >= now() - make_interval(mins => $1::int)
     GROUP BY 1, 2 ORDER BY 1`,
    [minutes],
  );
  return rows.map((r) => ({ minute: r.minute, status: r.status, count: Number(r.count) }));
}
