/**
 * Rate limits across every worker sharing the database: at most `max_starts` starts in any window
 * of `per_ms` (a sliding window, exact — unlike a token bucket, which would let twice the limit
 * through in one window after a quiet spell). What starts is named by `scope` and `key`: claims of
 * a task type ('type', the type), or deliveries to an outbound webhook ('webhook', its id).
 *
 * A row keeps the reservations in its window, oldest first, as two arrays: when each was made
 * (`starts`) and how many claims it took (`counts`); one entry per reservation rather than per claim,
 * so a worker claiming in batches keeps the row small. Before a worker claims a limited type it
 * reserves starts (ph_reserve_starts): the type's row is locked, the entries that left the window
 * are dropped, and as many starts as are left are granted — so reservations from many workers
 * queue on the row lock and each sees the ones before it. Starts reserved and not used (fewer tasks
 * waiting than reserved) are given back (ph_return_starts). The claim function itself is unchanged:
 * a reservation only lowers the per-type room the worker passes to it, so types without a limit
 * pay nothing.
 *
 * Several keys are reserved in the order given; callers sort them, so two reservations never
 * wait for each other's rows in opposite orders.
 */
export const name = "rate-limits";

export const statements = [
  `CREATE TABLE ph_rate_limits (
    scope text NOT NULL CHECK (scope IN ('type', 'webhook')),
    key text NOT NULL,
    max_starts int NOT NULL CHECK (max_starts BETWEEN 1 AND 10000),
    per_ms int NOT NULL CHECK (per_ms BETWEEN 1000 AND 86400000),
    starts timestamptz[] NOT NULL DEFAULT '{}',
    counts int[] NOT NULL DEFAULT '{}',
    reason text NOT NULL DEFAULT '',
    set_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
  )`,
  `CREATE FUNCTION ph_reserve_starts(p_scope text, p_keys text[], p_wants int[])
   RETURNS TABLE (key text, granted int, at text, next_free_at timestamptz)
   LANGUAGE plpgsql VOLATILE AS $fn$
   #variable_conflict use_column
   DECLARE
     v_row record;
     v_starts timestamptz[];
     v_counts int[];
     v_used int;
     v_grant int;
     v_at timestamptz;
   BEGIN
     FOR i IN 1 .. coalesce(cardinality(p_keys), 0) LOOP
       SELECT l.key, l.max_starts, l.per_ms, l.starts, l.counts INTO v_row
       FROM ph_rate_limits l WHERE l.scope = p_scope AND l.key = p_keys[i] FOR UPDATE;
       CONTINUE WHEN NOT FOUND;
       -- The time once the row is ours, not when the statement began: a reservation that waited for
       -- another's lock must not be stamped before it (its entry would leave the window too soon).
       v_at := clock_timestamp();
       SELECT coalesce(array_agg(u.s ORDER BY u.o), '{}'), coalesce(array_agg(u.c ORDER BY u.o), '{}'), coalesce(sum(u.c), 0)
       INTO v_starts, v_counts, v_used
       FROM unnest(v_row.starts, v_row.counts) WITH ORDINALITY AS u(s, c, o)
       WHERE u.s > v_at - make_interval(secs => v_row.per_ms / 1000.0);
       v_grant := least(p_wants[i], greatest(0, v_row.max_starts - v_used));
       IF v_grant > 0 THEN
         v_starts := v_starts || v_at;
         v_counts := v_counts || v_grant;
       END IF;
       UPDATE ph_rate_limits l SET starts = v_starts, counts = v_counts WHERE l.scope = p_scope AND l.key = v_row.key;
       key := v_row.key;
       granted := v_grant;
       at := v_at::text;
       next_free_at := CASE WHEN v_used + v_grant >= v_row.max_starts THEN v_starts[1] + make_interval(secs => v_row.per_ms / 1000.0) END;
       RETURN NEXT;
     END LOOP;
   END
   $fn$`,
  `CREATE FUNCTION ph_return_starts(p_scope text, p_ats timestamptz[], p_keys text[], p_unused int[]) RETURNS void
   LANGUAGE plpgsql VOLATILE AS $fn$
   DECLARE
     v_starts timestamptz[];
     v_counts int[];
     v_at int;
   BEGIN
     FOR i IN 1 .. coalesce(cardinality(p_keys), 0) LOOP
       SELECT l.starts, l.counts INTO v_starts, v_counts FROM ph_rate_limits l WHERE l.scope = p_scope AND l.key = p_keys[i] FOR UPDATE;
       CONTINUE WHEN NOT FOUND;
       v_at := array_position(v_starts, p_ats[i]);
       -- Gone: the window passed it, or the limit was set anew; nothing to give back.
       CONTINUE WHEN v_at IS NULL;
       IF v_counts[v_at] > p_unused[i] THEN
         v_counts[v_at] := v_counts[v_at] - p_unused[i];
       ELSE
         v_starts := v_starts[:v_at - 1] || v_starts[v_at + 1:];
         v_counts := v_counts[:v_at - 1] || v_counts[v_at + 1:];
       END IF;
       UPDATE ph_rate_limits l SET starts = v_starts, counts = v_counts WHERE l.scope = p_scope AND l.key = p_keys[i];
     END LOOP;
   END
   $fn$`,
];
