import type { Queryable } from "../../db.js";

export interface DriveSpendRow {
  /** Null: tasks from no drive (the API, the CLI, schedules, hooks). */
  drive_id: string | null;
  cost_usd: number;
  runs: number;
}

/** Spend in the last `windowMs` per source drive, the costliest first: whose documents ask for the dear work. */
export async function selectSpendByDrive(db: Queryable, windowMs: number, limit: number): Promise<DriveSpendRow[]> {
  const { rows } = await db.query<DriveSpendRow>(
    `SELECT drive_id, sum(cost_usd)::float8 AS cost_usd, count(*)::int AS runs
       FROM ph_run_costs
      WHERE recorded_at > now() - make_interval(secs => $1::float8 / 1000.0)
      GROUP BY drive_id
      ORDER BY 2 DESC, 1 NULLS LAST
      LIMIT $2`,
    [windowMs, limit],
  );
  return rows;
}
