import type { Queryable } from "../../db.js";
import type { RateLimitRow, RateScope } from "./rate-limit-row.js";

/** The rate limits of a scope (of the keys given, or all), by key, with the starts in each window now. */
export async function listRateLimits(db: Queryable, scope: RateScope, keys?: readonly string[]): Promise<RateLimitRow[]> {
  const { rows } = await db.query<RateLimitRow>(
    `SELECT l.key, l.max_starts, l.per_ms, w.used,
            CASE WHEN w.used >= l.max_starts THEN w.oldest + make_interval(secs => l.per_ms / 1000.0) END AS next_free_at,
            l.reason, l.set_at
     FROM ph_rate_limits l, LATERAL (
       SELECT coalesce(sum(u.c), 0)::int AS used, min(u.s) AS oldest FROM unnest(l.starts, l.counts) AS u(s, c)
       WHERE u.s > now() - make_interval(secs => l.per_ms / 1000.0)) w
     WHERE l.scope = $1 AND ($2::text[] IS NULL OR l.key = ANY($2::text[]))
     ORDER BY l.key`,
    [scope, keys ?? null],
  );
  return rows;
}
