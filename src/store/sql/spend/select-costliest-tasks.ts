import type { Queryable } from "../../db.js";
import { HOLDER_TABLES, type Holder } from "../holder-budgets/budget-holder-tables.js";

export interface CostlyTaskRow {
  task_id: string;
  task_type: string;
  /** Null once the task itself is past its retention. */
  title: string | null;
  cost_usd: number;
  runs: number;
}

/** The tasks whose runs cost most in the last `windowMs` (all their runs in the window together); with `holder`, of what that drive's writers or that person asked for. */
export async function selectCostliestTasks(db: Queryable, windowMs: number, limit: number, holder?: Holder): Promise<CostlyTaskRow[]> {
  // The holder's column comes from a closed map; without one $3 is null and not compared.
  const whose = holder ? `AND ${HOLDER_TABLES[holder.kind].costColumn} = $3::text` : "AND $3::text IS NULL";
  const { rows } = await db.query<CostlyTaskRow>(
    `SELECT c.task_id, c.task_type, t.title, c.cost_usd, c.runs
       FROM (SELECT task_id, min(task_type) AS task_type, sum(cost_usd)::float8 AS cost_usd, count(*)::int AS runs
               FROM ph_run_costs
              WHERE recorded_at > now() - make_interval(secs => $1::float8 / 1000.0) ${whose}
              GROUP BY task_id
              ORDER BY 3 DESC
              LIMIT $2) c
       LEFT JOIN ph_tasks t ON t.id = c.task_id
      ORDER BY c.cost_usd DESC, c.task_id`,
    [windowMs, limit, holder?.id ?? null],
  );
  return rows;
}
