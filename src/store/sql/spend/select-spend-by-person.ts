import type { Queryable } from "../../db.js";

export interface PersonSpendRow {
  /** Who asked, as proven (migration 045); null: no one named (API_TOKEN, loopback, schedules, hooks, unnamed writers) and runs recorded before 045. */
  asked_by: string | null;
  cost_usd: number;
  runs: number;
}

/** Spend in the last `windowMs` per person who asked, the costliest first: whose requests cost most. */
export async function selectSpendByPerson(db: Queryable, windowMs: number, limit: number): Promise<PersonSpendRow[]> {
  const { rows } = await db.query<PersonSpendRow>(
    `SELECT asked_by, sum(cost_usd)::float8 AS cost_usd, count(*)::int AS runs
       FROM ph_run_costs
      WHERE recorded_at > now() - make_interval(secs => $1::float8 / 1000.0)
      GROUP BY asked_by
      ORDER BY 2 DESC, 1 NULLS LAST
      LIMIT $2`,
    [windowMs, limit],
  );
  return rows;
}
