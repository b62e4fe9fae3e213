import type { Queryable } from "../../db.js";

/**
 * Sets a type's rate limit; a type limited already keeps the reservations of its window (so lowering a
 * limit cannot open a burst), and takes the new numbers and reason.
 */
export async function upsertRateLimit(db: Queryable, type: string, maxStarts: number, perMs: number, reason: string): Promise<void> {
  await db.query(
    `INSERT INTO ph_rate_limits (task_type, max_starts, per_ms, reason) VALUES ($1, $2, $3, $4)
     ON CONFLICT (task_type) DO UPDATE SET max_starts = EXCLUDED.max_starts, per_ms = EXCLUDED.per_ms, reason = EXCLUDED.reason, set_at = now()`,
    [type, maxStarts, perMs, reason],
  );
}
