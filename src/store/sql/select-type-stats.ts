import type { Queryable } from "../db.js";

/** How the tasks of one type ended over a recent stretch, and how long their completed runs took. */
export interface TypeStatsRow {
  type: string;
  completed: number;
  failed: number;
  cancelled: number;
  /** Of the last run of each completed task (null: none completed). */
  p50_ms: number | null;
  p95_ms: number | null;
}

/** Per type, the tasks finished in the last `minutes` (the finished_at index finds them). */
export async function selectTypeStats(db: Queryable, minutes: number): Promise<TypeStatsRow[]> {
  const { rows } = await db.query<{ type: string; completed: string | number; failed: string | number; cancelled: string | number; p50_ms: number | null; p95_ms: number | null }>(
    `SELECT type,
            count(*) FILTER (WHERE status = 'completed') AS completed,
            count(*) FILTER (WHERE status = 'failed') AS failed,
            count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY run_ms) FILTER (WHERE status = 'completed' AND run_ms IS NOT NULL) AS p50_ms,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY run_ms) FILTER (WHERE status = 'completed' AND run_ms IS NOT NULL) AS p95_ms
     FROM ph_tasks WHERE finished_at >= now() - make_interval(mins => $1::int)
     GROUP BY type ORDER BY type`,
    [minutes],
  );
  return rows.map((r) => ({ type: r.type, completed: Number(r.completed), failed: Number(r.failed), cancelled: Number(r.cancelled), p50_ms: r.p50_ms === null ? null : Math.round(Number(r.p50_ms)), p95_ms: r.p95_ms === null ? null : Math.round(Number(r.p95_ms)) }));
}
