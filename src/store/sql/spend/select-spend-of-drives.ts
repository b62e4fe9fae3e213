import type { Queryable } from "../../db.js";
import type { DriveSpendRow } from "./select-spend-by-drive.js";

/** Spend in the last `windowMs` of each of `driveIds`' writers (a drive that spent nothing has no row). */
export async function selectSpendOfDrives(db: Queryable, windowMs: number, driveIds: readonly string[]): Promise<DriveSpendRow[]> {
  const { rows } = await db.query<DriveSpendRow>(
    `SELECT writers_drive AS drive_id, sum(cost_usd)::float8 AS cost_usd, count(*)::int AS runs
       FROM ph_run_costs
      WHERE recorded_at > now() - make_interval(secs => $1::float8 / 1000.0) AND writers_drive = ANY($2::text[])
      GROUP BY writers_drive`,
    [windowMs, driveIds],
  );
  return rows;
}
