import type { Queryable } from "../../db.js";
import type { RateScope } from "./rate-limit-row.js";

/**
 * Sets a rate limit; a key limited already keeps the reservations of its window (so lowering a
 * limit cannot open a burst), and takes the new numbers and reason.
 */
export async function upsertRateLimit(db: Queryable, scope: RateScope, key: string, maxStarts: number, perMs: number, reason: string): Promise<void> {
  await db.query(
    `INSERT INTO ph_rate_limits (scope, key, max_starts, per_ms, reason) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (scope, key) DO UPDATE SET max_starts = EXCLUDED.max_starts, per_ms = EXCLUDED.per_ms, reason = EXCLUDED.reason, set_at = now()`,
    [scope, key, maxStarts, perMs, reason],
  );
}
