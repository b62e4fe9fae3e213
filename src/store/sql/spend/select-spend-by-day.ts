import type { Queryable } from "../../db.js";
import { HOLDER_TABLES, type Holder } from "../holder-budgets/budget-holder-tables.js";

export interface DaySpendRow {
  /** The day (UTC), YYYY-MM-DD. */
  day: string;
  task_type: string;
  cost_usd: number;
  runs: number;
}

/** Spend per UTC day and task type over the last `days` days (today included), newest first; with `holder`, only what that drive's writers or that person asked for. */
export async function selectSpendByDay(db: Queryable, days: number, holder?: Holder): Promise<DaySpendRow[]> {
  // The holder's column comes from a closed map; without one $2 is null and not compared.
  const whose = holder ? `AND ${HOLDER_TABLES[holder.kind].costColumn} = $2::text` : "AND $2::text IS NULL";
  const { rows } = await db.query<DaySpendRow>(
    `SELECT to_char(date_trunc('day', recorded_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day, task_type,
            sum(cost_usd)::float8 AS cost_usd, count(*)::int AS runs
       FROM ph_run_costs
      WHERE recorded_at >= (date_trunc('day', now() AT TIME ZONE 'UTC') - make_interval(days => $1::int - 1)) AT TIME ZONE 'UTC' ${whose}
      GROUP BY 1, 2
      ORDER BY 1 DESC, 3 DESC`,
    [days, holder?.id ?? null],
  );
  return rows;
}
