import type { Queryable } from "../../db.js";
import type { ScheduleRow } from "./schedule-row.js";

/** Every schedule, by name (a handful per agent; no paging). */
export async function listSchedules(db: Queryable): Promise<ScheduleRow[]> {
  const { rows } = await db.query<ScheduleRow>("SELECT * FROM ph_schedules ORDER BY name");
  return rows;
}
