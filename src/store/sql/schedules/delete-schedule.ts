import type { Queryable } from "../../db.js";

/** Removes a schedule (the tasks it made stay); false when there was none. */
export async function deleteSchedule(db: Queryable, id: string): Promise<boolean> {
  const { affectedRows } = await db.query("DELETE FROM ph_schedules WHERE id = $1", [id]);
  return affectedRows > 0;
}
