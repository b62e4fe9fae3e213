import type { Queryable } from "../../db.js";
import type { ScheduleFields, ScheduleRow } from "./schedule-row.js";

/** Inserts a schedule; undefined when its name is taken. */
export async function insertSchedule(db: Queryable, id: string, fields: ScheduleFields): Promise<ScheduleRow | undefined> {
  const { rows } = await db.query<ScheduleRow>(
    `INSERT INTO ph_schedules (id, name, cron, timezone, task, overlap, enabled, next_fire_at)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8)
     ON CONFLICT (name) DO NOTHING
     RETURNING *`,
    [id, fields.name, fields.cron, fields.timezone, JSON.stringify(fields.task), fields.overlap, fields.enabled, fields.next_fire_at],
  );
  return rows[0];
}
