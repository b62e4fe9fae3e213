import type { Queryable } from "../../db.js";
import type { RateLimitRow } from "./rate-limit-row.js";

/** Every rate limit, by type, with the starts in its window now. */
export async function listRateLimits(db: Queryable): Promise<RateLimitRow[]> {
  const { rows } = await db.query<RateLimitRow>(
    `SELECT l.task_type, l.max_starts, l.per_ms, w.used,
            CASE WHEN w.used >= l.max_starts THEN w.oldest + make_interval(secs => l.per_ms / 1000.0) END AS next_free_at,
            l.reason, l.set_at
     FROM ph_rate_limits l, LATERAL (
       SELECT coalesce(sum(u.c), 0)::int AS used, min(u.s) AS oldest FROM unnest(l.starts, l.counts) AS u(s, c)
       WHERE u.s > now() - make_interval(secs => l.per_ms / 1000.0)) w
     ORDER BY l.task_type`,
  );
  return rows;
}
