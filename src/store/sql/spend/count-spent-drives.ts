import type { Queryable } from "../../db.js";

/** How many drives are recorded as having spent their budget (ph_drive_budget_state: a row each, few). */
export async function countSpentDrives(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM ph_drive_budget_state");
  return rows[0]?.n ?? 0;
}
