import type { Queryable } from "../../db.js";
import type { ScheduleRow } from "./schedule-row.js";

/** One schedule by id or by name. */
export async function selectSchedule(db: Queryable, idOrName: string): Promise<ScheduleRow | undefined> {
  const { rows } = await db.query<ScheduleRow>("SELECT * FROM ph_schedules WHERE id = $1 OR name = $1 LIMIT 1", [idOrName]);
  return rows[0];
}
