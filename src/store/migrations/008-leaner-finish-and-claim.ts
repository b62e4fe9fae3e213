/**
 * ph_finish_and_claim, third version: the same rules as migration 006, in fewer statements, and no
 * event-log insert for the status changes of a run.
 *
 * - The ends of runs are recorded by ONE update joined with the arrays, instead of one statement per
 *   row. Migration 006 went row by row because the planner, guessing without statistics, joined the
 *   arrays to the running-task index (full of dead entries) instead of the primary key. Here the
 *   function turns hash joins, merge joins and sequential scans off for its own statements, so the
 *   only plan left is a nested loop over the primary key; every statement of the function is an
 *   index walk anyway.
 * - Running tasks are counted per document and per drive in one pass over the running-task index
 *   (GROUPING SETS) instead of two.
 * - Candidates are read in one statement (rank order, at most `count × 4`, as before) instead of a
 *   cursor fetched row by row, then chosen in a loop over the arrays.
 * - Its statements keep one generic plan each (plan_cache_mode = force_generic_plan). PL/pgSQL had
 *   kept re-planning some of them on every call (custom plans), and planning cost more than running
 *   them: a call that finishes one run and claims one task took 1.5 ms of backend CPU, 0.83 ms with
 *   generic plans (the same plans; with every join a nested loop there is nothing else to choose).
 * - The chosen rows are updated directly. The claim holds the cluster-wide claim lock, so no other
 *   claim can take them; the separate SKIP LOCKED lookup only guarded against a cancel or retry
 *   holding a row, and the update now waits for that short statement and re-checks the row
 *   (a task cancelled meanwhile is no longer pending and is left out).
 *
 * - The two status entries of a run — "running" when it is claimed, its end when it is recorded —
 *   are kept on the task's row instead of as rows of ph_task_events: a sequence number each
 *   (run_seq, end_seq, drawn from the event log's own sequence at the moment the entry used to be
 *   inserted) and the run's duration. Reading the log (list-events.ts) merges them in by sequence
 *   number, so a replay is the same as before, entry for entry. Before the row leaves its run for
 *   another one (a retry, a release at shutdown, a lease recovery, a retry by request), the store
 *   writes the two entries out as real rows with their original numbers, in the same statement
 *   (status-entries.ts), so every attempt's entries stay in the log.
 *
 *   Why: the two inserts were a quarter of the backend CPU of a finish-and-claim call (heap and
 *   index entry each, JSON built per entry): 2.67 → 2.00 ms per call of 10 + 10 without them,
 *   measured as backend CPU in alternating rounds.
 *
 * The rest, measured the same way against migration 006's function (8 rounds of 60 calls, VACUUM
 * between rounds): 3.0–3.3 → 2.3–2.6 ms per call.
 */
export const name = "leaner-finish-and-claim";

const columns = "ALTER TABLE ph_tasks ADD COLUMN run_seq bigint, ADD COLUMN end_seq bigint, ADD COLUMN run_ms integer";

/**
 * The status entries a row holds, as event-log rows. The JSON is built exactly as the inserts of
 * migration 006 built it, so stored and merged entries read alike.
 */
const statusEntries = `
CREATE FUNCTION ph_task_status_entries(
  p_run_seq bigint, p_end_seq bigint, p_status text, p_attempts int, p_worker text, p_run_ms int, p_error jsonb,
  p_started_at timestamptz, p_finished_at timestamptz)
RETURNS TABLE (seq bigint, data text, created_at timestamptz)
LANGUAGE sql STABLE AS $fn$
  SELECT p_run_seq, json_build_object('status', 'running', 'attempt', p_attempts, 'workerId', p_worker)::text, p_started_at
  WHERE p_run_seq IS NOT NULL
  UNION ALL
  SELECT p_end_seq, (jsonb_build_object('status', p_status, 'attempt', p_attempts, 'durationMs', p_run_ms)
                     || CASE WHEN p_error IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('error', p_error) END)::text, p_finished_at
  WHERE p_end_seq IS NOT NULL
$fn$`;

const finishAndClaim = `
CREATE OR REPLACE FUNCTION ph_finish_and_claim(
  p_worker text,
  p_finish_ids text[], p_finish_statuses text[], p_finish_results jsonb[], p_finish_errors jsonb[], p_finish_durations int[], p_notify text,
  p_count int, p_max_per_document int, p_max_per_drive int, p_lease_ms float8, p_type_slots jsonb, p_lock bigint, p_types text[],
  p_event_tasks text[], p_event_kinds text[], p_event_streams text[], p_event_data text[], p_event_bytes int[], p_async_commit boolean)
RETURNS TABLE (id text, status text, updated_at timestamptz, result jsonb, error jsonb, type text, title text, instructions text,
               params jsonb, priority int, attempts int, max_attempts int, timeout_ms int, idempotency_key text, source jsonb,
               created_at timestamptz)
LANGUAGE plpgsql VOLATILE
SET enable_bitmapscan = off SET enable_hashjoin = off SET enable_mergejoin = off SET enable_seqscan = off
SET plan_cache_mode = force_generic_plan AS $fn$
#variable_conflict use_column
DECLARE
  v_finished bigint := 0;
  v_documents text[];
  v_document_counts int[];
  v_drives text[];
  v_drive_counts int[];
  v_types text[];
  v_type_room int[];
  v_busy_documents text[];
  v_busy_drives text[];
  v_full_types text[];
  c_ids text[];
  c_documents text[];
  c_drives text[];
  c_types text[];
  v_at int;
  v_document_at int;
  v_drive_at int;
  v_type_at int;
  v_ids text[] := '{}';
BEGIN
  IF p_async_commit THEN
    PERFORM set_config('synchronous_commit', 'off', true);
  END IF;
  IF cardinality(p_event_tasks) > 0 THEN
    INSERT INTO ph_task_events (task_id, kind, stream, data, bytes)
    SELECT * FROM unnest(p_event_tasks, p_event_kinds, p_event_streams, p_event_data, p_event_bytes);
  END IF;
  IF cardinality(p_finish_ids) > 0 THEN
    RETURN QUERY
    WITH ending AS MATERIALIZED (
           SELECT f.*, 'running'::text AS was FROM unnest(p_finish_ids, p_finish_statuses, p_finish_results, p_finish_errors, p_finish_durations)
             AS f(id, status, result, error, duration_ms)
         ), done AS (
           -- The end's entry is a sequence number on the row, drawn after the run's output entries above.
           UPDATE ph_tasks t
           SET status = f.status, result = f.result, error = f.error, finished_at = now(), updated_at = now(),
               last_worker = t.locked_by, locked_by = NULL, lease_expires_at = NULL, cancel_requested = false,
               end_seq = nextval('ph_task_events_seq_seq'), run_ms = f.duration_ms
           FROM ending f
           WHERE t.id = f.id AND t.status = f.was AND t.locked_by = p_worker
           RETURNING t.id, t.status, t.updated_at, t.result, t.error
         )
    SELECT d.id, d.status, d.updated_at, d.result, d.error, NULL, NULL, NULL, NULL::jsonb, NULL::int, NULL::int, NULL::int, NULL::int,
           NULL, NULL::jsonb, NULL::timestamptz
    FROM done d;
    GET DIAGNOSTICS v_finished = ROW_COUNT;
    IF v_finished > 0 AND p_notify IS NOT NULL THEN
      PERFORM pg_notify(p_notify, p_worker);
    END IF;
  END IF;

  IF p_count <= 0 OR cardinality(p_types) = 0 THEN
    RETURN;
  END IF;
  PERFORM pg_advisory_xact_lock(p_lock);

  SELECT coalesce(array_agg(r.document_id) FILTER (WHERE r.by_document), '{}'), coalesce(array_agg(r.n) FILTER (WHERE r.by_document), '{}'),
         coalesce(array_agg(r.drive_id) FILTER (WHERE NOT r.by_document), '{}'), coalesce(array_agg(r.n) FILTER (WHERE NOT r.by_document), '{}')
  INTO v_documents, v_document_counts, v_drives, v_drive_counts
  FROM (SELECT document_id, drive_id, GROUPING(drive_id) = 1 AS by_document, count(*)::int AS n
        FROM ph_tasks WHERE status = 'running' GROUP BY GROUPING SETS ((document_id), (drive_id))) r
  WHERE (r.by_document AND r.document_id IS NOT NULL) OR (NOT r.by_document AND r.drive_id IS NOT NULL);
  SELECT coalesce(array_agg(s.key), '{}'), coalesce(array_agg(s.value::int), '{}') INTO v_types, v_type_room
  FROM jsonb_each_text(p_type_slots) s;
  v_busy_documents := ARRAY(SELECT v_documents[i] FROM generate_subscripts(v_documents, 1) i WHERE v_document_counts[i] >= p_max_per_document);
  v_busy_drives := ARRAY(SELECT v_drives[i] FROM generate_subscripts(v_drives, 1) i WHERE v_drive_counts[i] >= p_max_per_drive);
  v_full_types := ARRAY(SELECT v_types[i] FROM generate_subscripts(v_types, 1) i WHERE v_type_room[i] <= 0);

  SELECT coalesce(array_agg(k.id ORDER BY k.rank_at, k.id), '{}'), coalesce(array_agg(k.document_id ORDER BY k.rank_at, k.id), '{}'),
         coalesce(array_agg(k.drive_id ORDER BY k.rank_at, k.id), '{}'), coalesce(array_agg(k.type ORDER BY k.rank_at, k.id), '{}')
  INTO c_ids, c_documents, c_drives, c_types
  FROM (SELECT t.id, t.document_id, t.drive_id, t.type, t.rank_at FROM ph_tasks t
        WHERE t.status = 'pending' AND t.run_at <= now() AND t.type = ANY(p_types)
          AND (t.document_id IS NULL OR t.document_id <> ALL(v_busy_documents))
          AND (t.drive_id IS NULL OR t.drive_id <> ALL(v_busy_drives))
          AND t.type <> ALL(v_full_types)
        ORDER BY t.rank_at, t.id LIMIT p_count * 4) k;

  FOR v_at IN 1 .. cardinality(c_ids) LOOP
    v_document_at := CASE WHEN c_documents[v_at] IS NULL THEN NULL ELSE array_position(v_documents, c_documents[v_at]) END;
    v_drive_at := CASE WHEN c_drives[v_at] IS NULL THEN NULL ELSE array_position(v_drives, c_drives[v_at]) END;
    v_type_at := array_position(v_types, c_types[v_at]);
    CONTINUE WHEN NOT ((v_document_at IS NULL OR v_document_counts[v_document_at] < p_max_per_document)
                       AND (v_drive_at IS NULL OR v_drive_counts[v_drive_at] < p_max_per_drive)
                       AND (v_type_at IS NULL OR v_type_room[v_type_at] > 0));
    v_ids := v_ids || c_ids[v_at];
    IF c_documents[v_at] IS NOT NULL THEN
      IF v_document_at IS NULL THEN
        v_documents := v_documents || c_documents[v_at];
        v_document_counts := v_document_counts || 1;
      ELSE
        v_document_counts[v_document_at] := v_document_counts[v_document_at] + 1;
      END IF;
    END IF;
    IF c_drives[v_at] IS NOT NULL THEN
      IF v_drive_at IS NULL THEN
        v_drives := v_drives || c_drives[v_at];
        v_drive_counts := v_drive_counts || 1;
      ELSE
        v_drive_counts[v_drive_at] := v_drive_counts[v_drive_at] + 1;
      END IF;
    END IF;
    IF v_type_at IS NOT NULL THEN
      v_type_room[v_type_at] := v_type_room[v_type_at] - 1;
    END IF;
    EXIT WHEN cardinality(v_ids) >= p_count;
  END LOOP;
  IF cardinality(v_ids) = 0 THEN
    RETURN;
  END IF;

  RETURN QUERY
  WITH chosen AS (
         SELECT l.id FROM unnest(v_ids) AS c(id) CROSS JOIN LATERAL (SELECT x.id FROM ph_tasks x WHERE x.id = c.id LIMIT 1) l
       ), claimed AS (
         -- "running" is a sequence number on the row, drawn before anything the run writes.
         -- A pending row holds none (every way back to pending writes them out, see status-entries.ts).
         UPDATE ph_tasks t
         SET status = 'running', attempts = t.attempts + 1, locked_by = p_worker, started_at = now(), updated_at = now(),
             lease_expires_at = now() + make_interval(secs => p_lease_ms / 1000.0), cancel_requested = false,
             run_seq = nextval('ph_task_events_seq_seq'), end_seq = NULL, run_ms = NULL
         FROM chosen WHERE t.id = chosen.id AND t.status = 'pending'
         RETURNING t.*
       )
  SELECT c.id, c.status, c.updated_at, c.result, c.error, c.type, c.title, c.instructions, c.params, c.priority, c.attempts,
         c.max_attempts, c.timeout_ms, c.idempotency_key, c.source, c.created_at
  FROM claimed c ORDER BY c.rank_at, c.id;
END
$fn$`;

/** Run one by one: the function bodies hold semicolons of their own. */
export const statements = [columns, statusEntries, finishAndClaim];
