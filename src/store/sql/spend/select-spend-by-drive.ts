import type { Queryable } from "../../db.js";

export interface DriveSpendRow {
  /** The drive whose writers asked (migration 040); null: the owner's own tasks (the API, the CLI, schedules, hooks) and runs recorded before 040. */
  drive_id: string | null;
  cost_usd: number;
  runs: number;
}

/** Spend in the last `windowMs` per drive whose writers asked, the costliest first: whose documents ask for the dear work. */
export async function selectSpendByDrive(db: Queryable, windowMs: number, limit: number): Promise<DriveSpendRow[]> {
  const { rows } = await db.query<DriveSpendRow>(
    `SELECT writers_drive AS drive_id, sum(cost_usd)::float8 AS cost_usd, count(*)::int AS runs
       FROM ph_run_costs
      WHERE recorded_at > now() - make_interval(secs => $1::float8 / 1000.0)
      GROUP BY writers_drive
      ORDER BY 2 DESC, 1 NULLS LAST
      LIMIT $2`,
    [windowMs, limit],
  );
  return rows;
}
