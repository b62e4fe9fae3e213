import type { Queryable } from "../../db.js";
import type { DriveBudgetRow } from "./drive-budget-row.js";

/** Sets `driveId`'s budget (null: none), replacing one set before; the row as stored. */
export async function upsertDriveBudget(db: Queryable, driveId: string, usdPerDay: number | null, reason: string, setBy: string): Promise<DriveBudgetRow> {
  const { rows } = await db.query<DriveBudgetRow>(
    `INSERT INTO ph_drive_budgets (drive_id, usd_per_day, reason, set_by) VALUES ($1, $2, $3, $4)
     ON CONFLICT (drive_id) DO UPDATE SET usd_per_day = EXCLUDED.usd_per_day, reason = EXCLUDED.reason, set_by = EXCLUDED.set_by, set_at = now()
     RETURNING drive_id, usd_per_day, reason, set_by, set_at`,
    [driveId, usdPerDay, reason, setBy],
  );
  const row = rows[0];
  if (!row) throw new Error(`the budget of drive '${driveId}' was not stored`);
  return row;
}
