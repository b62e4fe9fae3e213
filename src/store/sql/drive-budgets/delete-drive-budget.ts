import type { Queryable } from "../../db.js";

/** Removes the budget set for `driveId` (its settings hold it again); false when none was set. */
export async function deleteDriveBudget(db: Queryable, driveId: string): Promise<boolean> {
  const { rows } = await db.query("DELETE FROM ph_drive_budgets WHERE drive_id = $1 RETURNING 1", [driveId]);
  return rows.length > 0;
}
