import type { Queryable } from "../../db.js";
import type { RateLimitRow } from "./rate-limit-row.js";

/** Every rate limit, by type, with the starts in its window now. */
export async function listRateLimits(db: Queryable): Promise<RateLimitRow[]> {
  const { rows } = await db.query<RateLimitRow>(
    `SELECT task_type, max_starts, per_ms, cardinality(w.recent) AS used,
            CASE WHEN cardinality(w.recent) >= max_starts THEN w.recent[1] + make_interval(secs => per_ms / 1000.0) END AS next_free_at,
            reason, set_at
     FROM ph_rate_limits, LATERAL (SELECT ph_recent_starts(starts, per_ms, now()) AS recent) w
     ORDER BY task_type`,
  );
  return rows;
}
