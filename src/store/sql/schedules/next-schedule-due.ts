import type { Queryable } from "../../db.js";

/**
 * When the soonest schedule can be fired: its occurrence, or later if another worker's claim on
 * its firing runs longer. Undefined when no schedule is enabled.
 */
export async function nextScheduleDue(db: Queryable): Promise<Date | undefined> {
  const { rows } = await db.query<{ at: Date | null }>(
    "SELECT min(greatest(next_fire_at, coalesce(firing_until, next_fire_at))) AS at FROM ph_schedules WHERE enabled AND next_fire_at IS NOT NULL",
  );
  return rows[0]?.at ?? undefined;
}
