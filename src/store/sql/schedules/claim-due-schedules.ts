import type { Queryable } from "../../db.js";
import type { ScheduleRow } from "./schedule-row.js";

/**
 * Claims up to `limit` schedules whose next occurrence is due, for `workerId` to fire, for
 * `leaseMs`: no other worker fires them meanwhile (SKIP LOCKED: a worker claiming at the same
 * instant takes others or none). A worker that dies mid-firing lets the claim lapse; the next one
 * fires the same occurrence, and its idempotency key keeps it to one task.
 */
export async function claimDueSchedules(db: Queryable, workerId: string, leaseMs: number, limit: number): Promise<ScheduleRow[]> {
  const { rows } = await db.query<ScheduleRow>(
    `UPDATE ph_schedules s
     SET firing_by = $1, firing_until = now() + make_interval(secs => $2 / 1000.0)
     WHERE s.id IN (
       SELECT d.id FROM ph_schedules d
       WHERE d.next_fire_at <= now() AND d.enabled AND (d.firing_until IS NULL OR d.firing_until < now())
       ORDER BY d.next_fire_at
       LIMIT $3
       FOR UPDATE SKIP LOCKED)
     RETURNING s.*`,
    [workerId, leaseMs, limit],
  );
  return rows;
}
