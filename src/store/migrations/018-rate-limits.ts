/**
 * Rate limits per task type, across every worker sharing the database: at most `max_starts`
 * claims of a type in any window of `per_ms` (a sliding window, exact — unlike a token bucket,
 * which would let twice the limit through in one window after a quiet spell).
 *
 * A row keeps the times of the claims in its window (`starts`, oldest first; at most max_starts of
 * them). Before a worker claims a limited type it reserves starts (reserve-starts.ts): one UPDATE
 * of the type's row, so reservations from many workers queue on the row lock and each sees the
 * ones before it. Starts it reserved and did not use (fewer tasks waiting than reserved) are given
 * back (return-starts.ts). The claim function itself is unchanged: a reservation only lowers the
 * per-type room the worker passes to it, so types without a limit pay nothing.
 *
 * `last_grant` is what the latest reservation took: the UPDATE computes it from the row as it was
 * and RETURNING reads it back (RETURNING sees only the new row).
 */
export const name = "rate-limits";

export const statements = [
  `CREATE TABLE ph_rate_limits (
    task_type text PRIMARY KEY,
    max_starts int NOT NULL CHECK (max_starts BETWEEN 1 AND 10000),
    per_ms int NOT NULL CHECK (per_ms BETWEEN 1000 AND 86400000),
    starts timestamptz[] NOT NULL DEFAULT '{}',
    last_grant int NOT NULL DEFAULT 0,
    reason text NOT NULL DEFAULT '',
    set_at timestamptz NOT NULL DEFAULT now()
  )`,
  // The starts of `starts` still inside the window that ends at `at`, oldest first.
  `CREATE FUNCTION ph_recent_starts(starts timestamptz[], per_ms int, at timestamptz) RETURNS timestamptz[]
   LANGUAGE sql IMMUTABLE AS $fn$
     SELECT coalesce(array_agg(s ORDER BY s), '{}') FROM unnest(starts) s WHERE s > at - make_interval(secs => per_ms / 1000.0)
   $fn$`,
];
