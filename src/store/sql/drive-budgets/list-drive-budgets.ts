import type { Queryable } from "../../db.js";
import type { DriveBudgetRow } from "./drive-budget-row.js";

/** The budgets set (of `driveIds`, or all, at most `limit`), by drive: one primary-key read for one drive. */
export async function listDriveBudgets(db: Queryable, driveIds?: readonly string[], limit = 1000): Promise<DriveBudgetRow[]> {
  const { rows } = await db.query<DriveBudgetRow>(
    `SELECT drive_id, usd_per_day, reason, set_by, set_at FROM ph_drive_budgets
      WHERE $1::text[] IS NULL OR drive_id = ANY($1::text[]) ORDER BY drive_id LIMIT $2`,
    [driveIds ?? null, limit],
  );
  return rows;
}
