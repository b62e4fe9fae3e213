import type { Queryable } from "../../db.js";
import type { ScheduleRow } from "./schedule-row.js";

export interface Firing {
  id: string;
  /** The occurrence fired (the next_fire_at the claim saw). */
  occurrence: Date;
  next: Date | null;
  outcome: "fired" | "skipped" | "failed";
  taskId: string | null;
  error: string | null;
}

/**
 * Ends a firing this worker claimed: moves the schedule on to its next occurrence and counts the
 * outcome. Fenced by the claim and the occurrence: a firing whose claim lapsed (another worker
 * took over) or whose schedule was edited meanwhile changes nothing. Undefined then. (The
 * occurrence comes back from JavaScript in milliseconds; one set in SQL may carry microseconds.)
 */
export async function finishFiring(db: Queryable, workerId: string, firing: Firing): Promise<ScheduleRow | undefined> {
  const { rows } = await db.query<ScheduleRow>(
    `UPDATE ph_schedules
     SET next_fire_at = CASE WHEN enabled THEN $4::timestamptz END,
         last_fired_at = CASE WHEN $5 = 'fired' THEN $3 ELSE last_fired_at END,
         last_task_id = coalesce($6, last_task_id),
         last_error = $7,
         fired_count = fired_count + (CASE WHEN $5 = 'fired' THEN 1 ELSE 0 END),
         skipped_count = skipped_count + (CASE WHEN $5 = 'skipped' THEN 1 ELSE 0 END),
         firing_by = NULL, firing_until = NULL, updated_at = now()
     WHERE id = $1 AND firing_by = $2 AND next_fire_at >= $3 AND next_fire_at < $3 + interval '1 millisecond'
     RETURNING *`,
    [firing.id, workerId, firing.occurrence, firing.next, firing.outcome, firing.taskId, firing.error],
  );
  return rows[0];
}
