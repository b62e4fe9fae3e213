import type { Queryable } from "../../db.js";

/** The drives recorded as having spent their budget (ph_drive_budget_state, migration 041), the longest spent first; at most `limit`. */
export async function selectSpentDrives(db: Queryable, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ drive_id: string }>("SELECT drive_id FROM ph_drive_budget_state ORDER BY spent_since, drive_id LIMIT $1", [limit]);
  return rows.map((r) => r.drive_id);
}
