/**
 * ph_finish_and_claim, fourth version: the chosen tasks are updated by row address (ctid, a TID
 * scan) instead of by a join with their ids.
 *
 * Why: the join let the planner drive the update from ph_tasks_claimable, the index of every
 * pending task, looking each chosen id up against every pending row. The function keeps one
 * generic plan per connection (migration 008), planned with whatever statistics the table had
 * then; a plan made while few tasks were pending stayed when thousands were: 7,440 pending rows
 * × 10 chosen ids = 190 ms per claim, and a worker that had run a few hundred tasks before a burst
 * of 8,000 claimed about 60 tasks/s (seen in the benchmark's sustained run, without VACUUM). A TID
 * scan is the only plan left once the pending status is a parameter (a literal would let the
 * partial index in again). The addresses are read by the candidate query, under the
 * claim lock; a row changed since (a cancel, a retry) has a new address, so its old one finds no
 * visible row and the task is not claimed this time.
 *
 * Also: the per-type rooms and the busy documents, drives and types are computed in one statement
 * instead of four (each PL/pgSQL statement with a subquery starts an executor of its own).
 */
export const name = "claim-by-row-address";

export const finishAndClaim = `
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
  c_documents text[];
  c_drives text[];
  c_types text[];
  c_addresses tid[];
  v_at int;
  v_document_at int;
  v_drive_at int;
  v_type_at int;
  v_addresses tid[] := '{}';
  -- A parameter in the generic plan, unlike a literal: ph_tasks_claimable (WHERE status = 'pending')
  -- cannot serve the claim's update, which leaves the TID scan.
  c_pending CONSTANT text := 'pending';
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
  SELECT ARRAY(SELECT s.key FROM jsonb_each_text(p_type_slots) s), ARRAY(SELECT s.value::int FROM jsonb_each_text(p_type_slots) s),
         ARRAY(SELECT s.key FROM jsonb_each_text(p_type_slots) s WHERE s.value::int <= 0),
         ARRAY(SELECT v_documents[i] FROM generate_subscripts(v_documents, 1) i WHERE v_document_counts[i] >= p_max_per_document),
         ARRAY(SELECT v_drives[i] FROM generate_subscripts(v_drives, 1) i WHERE v_drive_counts[i] >= p_max_per_drive)
  INTO v_types, v_type_room, v_full_types, v_busy_documents, v_busy_drives;

  SELECT coalesce(array_agg(k.ctid ORDER BY k.rank_at, k.id), '{}'), coalesce(array_agg(k.document_id ORDER BY k.rank_at, k.id), '{}'),
         coalesce(array_agg(k.drive_id ORDER BY k.rank_at, k.id), '{}'), coalesce(array_agg(k.type ORDER BY k.rank_at, k.id), '{}')
  INTO c_addresses, c_documents, c_drives, c_types
  FROM (SELECT t.ctid, t.id, t.document_id, t.drive_id, t.type, t.rank_at FROM ph_tasks t
        WHERE t.status = 'pending' AND t.run_at <= now() AND t.type = ANY(p_types)
          AND (t.document_id IS NULL OR t.document_id <> ALL(v_busy_documents))
          AND (t.drive_id IS NULL OR t.drive_id <> ALL(v_busy_drives))
          AND t.type <> ALL(v_full_types)
        ORDER BY t.rank_at, t.id LIMIT p_count * 4) k;

  FOR v_at IN 1 .. cardinality(c_addresses) LOOP
    v_document_at := CASE WHEN c_documents[v_at] IS NULL THEN NULL ELSE array_position(v_documents, c_documents[v_at]) END;
    v_drive_at := CASE WHEN c_drives[v_at] IS NULL THEN NULL ELSE array_position(v_drives, c_drives[v_at]) END;
    v_type_at := array_position(v_types, c_types[v_at]);
    CONTINUE WHEN NOT ((v_document_at IS NULL OR v_document_counts[v_document_at] < p_max_per_document)
                       AND (v_drive_at IS NULL OR v_drive_counts[v_drive_at] < p_max_per_drive)
                       AND (v_type_at IS NULL OR v_type_room[v_type_at] > 0));
    v_addresses := v_addresses || c_addresses[v_at];
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
    EXIT WHEN cardinality(v_addresses) >= p_count;
  END LOOP;
  IF cardinality(v_addresses) = 0 THEN
    RETURN;
  END IF;

  RETURN QUERY
  WITH claimed AS (
         -- "running" is a sequence number on the row, drawn before anything the run writes.
         -- A pending row holds none (every way back to pending writes them out, see status-entries.ts).
         UPDATE ph_tasks t
         SET status = 'running', attempts = t.attempts + 1, locked_by = p_worker, started_at = now(), updated_at = now(),
             lease_expires_at = now() + make_interval(secs => p_lease_ms / 1000.0), cancel_requested = false,
             run_seq = nextval('ph_task_events_seq_seq'), end_seq = NULL, run_ms = NULL
         WHERE t.ctid = ANY(v_addresses) AND t.status = c_pending
         RETURNING t.*
       )
  SELECT c.id, c.status, c.updated_at, c.result, c.error, c.type, c.title, c.instructions, c.params, c.priority, c.attempts,
         c.max_attempts, c.timeout_ms, c.idempotency_key, c.source, c.created_at
  FROM claimed c ORDER BY c.rank_at, c.id;
END
$fn$`;

export const statements = [finishAndClaim];
