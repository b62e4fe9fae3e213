import type { Queryable } from "../../db.js";

export interface DaySpendRow {
  /** The day (UTC), YYYY-MM-DD. */
  day: string;
  task_type: string;
  cost_usd: number;
  runs: number;
}

/** Spend per UTC day and task type over the last `days` days (today included), newest first. */
export async function selectSpendByDay(db: Queryable, days: number): Promise<DaySpendRow[]> {
  const { rows } = await db.query<DaySpendRow>(
    `SELECT to_char(date_trunc('day', recorded_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day, task_type,
            sum(cost_usd)::float8 AS cost_usd, count(*)::int AS runs
       FROM ph_run_costs
      WHERE recorded_at >= (date_trunc('day', now() AT TIME ZONE 'UTC') - make_interval(days => $1::int - 1)) AT TIME ZONE 'UTC'
      GROUP BY 1, 2
      ORDER BY 1 DESC, 3 DESC`,
    [days],
  );
  return rows;
}
