import type { Queryable } from "../../db.js";
import type { StartsGrant } from "./rate-limit-row.js";

/**
 * Reserves up to `counts[i]` starts of `types[i]` now, as many as each type's window has room
 * for; a type without a row (no limit) is not returned. The SET is evaluated on the row as locked:
 * a reservation that waited for another's lock sees that one's starts (READ COMMITTED re-reads the
 * row), so no window ever holds more than max_starts.
 */
export async function reserveStarts(db: Queryable, types: readonly string[], counts: readonly number[]): Promise<StartsGrant[]> {
  const { rows } = await db.query<StartsGrant>(
    `UPDATE ph_rate_limits r
     SET last_grant = least(w.want, greatest(0, r.max_starts - cardinality(ph_recent_starts(r.starts, r.per_ms, now())))),
         starts = ph_recent_starts(r.starts, r.per_ms, now())
                  || array_fill(now(), ARRAY[least(w.want, greatest(0, r.max_starts - cardinality(ph_recent_starts(r.starts, r.per_ms, now()))))])
     FROM unnest($1::text[], $2::int[]) AS w(task_type, want)
     WHERE r.task_type = w.task_type
     RETURNING r.task_type, r.last_grant AS granted, now()::text AS at,
               CASE WHEN cardinality(r.starts) >= r.max_starts THEN r.starts[1] + make_interval(secs => r.per_ms / 1000.0) END AS next_free_at`,
    [types, counts],
  );
  return rows;
}
