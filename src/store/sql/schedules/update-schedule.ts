import type { Queryable } from "../../db.js";
import type { ScheduleFields, ScheduleRow } from "./schedule-row.js";

/**
 * Saves a schedule's fields and drops any claim on its firing: a firing in progress still makes
 * its task, but cannot move the edited schedule on (finish-firing.ts is fenced by the claim).
 * Undefined when the schedule is gone; throws on a name another schedule has.
 */
export async function updateSchedule(db: Queryable, id: string, fields: ScheduleFields): Promise<ScheduleRow | undefined> {
  const { rows } = await db.query<ScheduleRow>(
    `UPDATE ph_schedules
     SET name = $2, cron = $3, timezone = $4, task = $5::jsonb, overlap = $6, enabled = $7, next_fire_at = $8,
         firing_by = NULL, firing_until = NULL, updated_at = now()
     WHERE id = $1
     RETURNING *`,
    [id, fields.name, fields.cron, fields.timezone, JSON.stringify(fields.task), fields.overlap, fields.enabled, fields.next_fire_at],
  );
  return rows[0];
}
