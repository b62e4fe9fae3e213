/**
 * ph_finish_and_claim, second version. The round trip that records ends of runs and claims also
 * carries the worker's buffered event-log entries (status changes, output chunks), so a no-op task
 * costs no INSERT and no commit of its own for its events, and a task's "completed" entry commits
 * with its status. It can commit asynchronously (TASK_STORE_ASYNC_COMMIT: claims and finishes only;
 * an enqueue always waits for the disk).
 *
 * The choice of tasks is a loop instead of migration 005's window functions: under the claim lock,
 * the running tasks are counted once per document and per drive, then candidates are read in rank
 * order from a fast-start cursor (ph_tasks_claimable) and each is taken while its document, its
 * drive and its type still have room, counting what this call took. The rules are 005's: saturated
 * documents, drives and types are skipped inside the scan, at most `count × 4` candidates are read
 * however long the queue is, and only the chosen rows are locked (SKIP LOCKED: a cancel touching one
 * just leaves it out), through the primary key. Measured against 005 on the same queue (blocks of 50
 * calls taking turns, finish 10 + claim 10, async commit): median 2.5 vs 2.8 ms and 3.5 vs 4.2 ms
 * per call in two runs on a busy 2-core machine.
 *
 * Plans that do not depend on statistics (a queue table is seldom analysed; PGlite and a server with
 * autovacuum off never are): entries go in from arrays with no join to ph_tasks and no foreign key,
 * finishes and the locking of chosen rows go by primary key, one row at a time. With the planner's
 * guesses the event insert had read the whole task table per call and the lock every pending task.
 * Together with the index changes below: 10,000 no-op tasks through the manager on PostgreSQL,
 * 1,830 → 4,390 tasks/s; on PGlite 1,770 → 3,210 (same machine, same run of the profile script).
 */
export const name = "events-in-claim";

const finishAndClaim = `
CREATE FUNCTION ph_finish_and_claim(
  p_worker text,
  p_finish_ids text[], p_finish_statuses text[], p_finish_results jsonb[], p_finish_errors jsonb[], p_finish_durations int[], p_notify text,
  p_count int, p_max_per_document int, p_max_per_drive int, p_lease_ms float8, p_type_slots jsonb, p_lock bigint, p_types text[],
  p_event_tasks text[], p_event_kinds text[], p_event_streams text[], p_event_data text[], p_event_bytes int[], p_async_commit boolean)
RETURNS TABLE (id text, status text, updated_at timestamptz, result jsonb, error jsonb, type text, title text, instructions text,
               params jsonb, priority int, attempts int, max_attempts int, timeout_ms int, idempotency_key text, source jsonb,
               created_at timestamptz)
LANGUAGE plpgsql VOLATILE SET enable_bitmapscan = off AS $fn$
#variable_conflict use_column
DECLARE
  v_finished bigint := 0;
  v_count bigint;
  v_at int;
  v_scan refcursor;
  v_candidate record;
  v_scanned int := 0;
  -- Running tasks per document / drive, and room left per capped type: parallel arrays (few entries).
  v_documents text[];
  v_document_counts int[];
  v_drives text[];
  v_drive_counts int[];
  v_types text[];
  v_type_room int[];
  v_busy_documents text[];
  v_busy_drives text[];
  v_document_at int;
  v_drive_at int;
  v_type_at int;
  v_ids text[] := '{}';
BEGIN
  IF p_async_commit THEN
    -- Transaction-local: this transaction's commit does not wait for the WAL flush.
    PERFORM set_config('synchronous_commit', 'off', true);
  END IF;
  -- Event-log entries first: they were buffered before the ends they precede.
  -- No join with ph_tasks and no foreign key: both cost more than the insert (a lookup and a row
  -- lock per entry; without statistics the planner read the whole task table for the join).
  -- Entries of a task deleted meanwhile are removed with the expired tasks.
  IF cardinality(p_event_tasks) > 0 THEN
    INSERT INTO ph_task_events (task_id, kind, stream, data, bytes)
    SELECT * FROM unnest(p_event_tasks, p_event_kinds, p_event_streams, p_event_data, p_event_bytes);
  END IF;
  -- Finished runs next, fenced by the worker id: a worker that lost its lease records nothing.
  -- One statement per row, by primary key: a join with the arrays let the planner pick a running-task
  -- index full of dead entries instead (no statistics on a queue table). Bitmap scans are off in this
  -- function: a bitmap over the running-task index visits every dead entry of it until the next
  -- VACUUM (counting running tasks took 0.5 ms with 3,000 of them); an index scan marks them dead once.
  FOR v_at IN 1 .. coalesce(cardinality(p_finish_ids), 0) LOOP
    -- The run's end enters the event log in the same transaction as its status.
    RETURN QUERY
    WITH done AS (
           UPDATE ph_tasks t
           SET status = p_finish_statuses[v_at], result = p_finish_results[v_at], error = p_finish_errors[v_at], finished_at = now(),
               updated_at = now(), last_worker = t.locked_by, locked_by = NULL, lease_expires_at = NULL, cancel_requested = false
           WHERE t.id = p_finish_ids[v_at] AND t.status = 'running' AND t.locked_by = p_worker
           RETURNING t.id, t.status, t.updated_at, t.result, t.error, t.attempts
         ), logged AS (
           INSERT INTO ph_task_events (task_id, kind, stream, data, bytes)
           SELECT d.id, 'status', NULL, x.data, octet_length(x.data)
           FROM done d CROSS JOIN LATERAL (
             SELECT (jsonb_build_object('status', d.status, 'attempt', d.attempts, 'durationMs', p_finish_durations[v_at])
                     || CASE WHEN d.error IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('error', d.error) END)::text AS data) x
         )
    SELECT d.id, d.status, d.updated_at, d.result, d.error, NULL, NULL, NULL, NULL::jsonb, NULL::int, NULL::int, NULL::int, NULL::int,
           NULL, NULL::jsonb, NULL::timestamptz
    FROM done d;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    v_finished := v_finished + v_count;
  END LOOP;
  IF v_finished > 0 THEN
    -- Slots freed: other workers may have tasks waiting on these documents and drives.
    IF p_notify IS NOT NULL THEN
      PERFORM pg_notify(p_notify, p_worker);
    END IF;
  END IF;

  IF p_count <= 0 OR cardinality(p_types) = 0 THEN
    RETURN;
  END IF;
  PERFORM pg_advisory_xact_lock(p_lock);

  -- Each statement from here takes a fresh snapshot: it sees every claim committed before the lock.
  SELECT coalesce(array_agg(r.document_id), '{}'), coalesce(array_agg(r.n), '{}') INTO v_documents, v_document_counts
  FROM (SELECT document_id, count(*)::int AS n FROM ph_tasks WHERE status = 'running' AND document_id IS NOT NULL GROUP BY document_id) r;
  SELECT coalesce(array_agg(r.drive_id), '{}'), coalesce(array_agg(r.n), '{}') INTO v_drives, v_drive_counts
  FROM (SELECT drive_id, count(*)::int AS n FROM ph_tasks WHERE status = 'running' AND drive_id IS NOT NULL GROUP BY drive_id) r;
  SELECT coalesce(array_agg(s.key), '{}'), coalesce(array_agg(s.value::int), '{}') INTO v_types, v_type_room
  FROM jsonb_each_text(p_type_slots) s;
  v_busy_documents := ARRAY(SELECT v_documents[i] FROM generate_subscripts(v_documents, 1) i WHERE v_document_counts[i] >= p_max_per_document);
  v_busy_drives := ARRAY(SELECT v_drives[i] FROM generate_subscripts(v_drives, 1) i WHERE v_drive_counts[i] >= p_max_per_drive);

  -- An explicit cursor is planned for a fast start: it walks the claimable index in rank order.
  OPEN v_scan FOR
    SELECT t.id, t.document_id, t.drive_id, t.type FROM ph_tasks t
    WHERE t.status = 'pending' AND t.run_at <= now() AND t.type = ANY(p_types)
      AND (t.document_id IS NULL OR t.document_id <> ALL(v_busy_documents))
      AND (t.drive_id IS NULL OR t.drive_id <> ALL(v_busy_drives))
      AND t.type <> ALL(ARRAY(SELECT v_types[i] FROM generate_subscripts(v_types, 1) i WHERE v_type_room[i] <= 0))
    ORDER BY t.rank_at, t.id;
  LOOP
    FETCH v_scan INTO v_candidate;
    EXIT WHEN NOT FOUND;
    v_scanned := v_scanned + 1;
    v_document_at := CASE WHEN v_candidate.document_id IS NULL THEN NULL ELSE array_position(v_documents, v_candidate.document_id) END;
    v_drive_at := CASE WHEN v_candidate.drive_id IS NULL THEN NULL ELSE array_position(v_drives, v_candidate.drive_id) END;
    v_type_at := array_position(v_types, v_candidate.type);
    IF (v_document_at IS NULL OR v_document_counts[v_document_at] < p_max_per_document)
       AND (v_drive_at IS NULL OR v_drive_counts[v_drive_at] < p_max_per_drive)
       AND (v_type_at IS NULL OR v_type_room[v_type_at] > 0) THEN
      v_ids := v_ids || v_candidate.id;
      -- Count the claim against its document, drive and type for the candidates after it.
      IF v_candidate.document_id IS NOT NULL THEN
        IF v_document_at IS NULL THEN
          v_documents := v_documents || v_candidate.document_id;
          v_document_counts := v_document_counts || 1;
        ELSE
          v_document_counts[v_document_at] := v_document_counts[v_document_at] + 1;
        END IF;
      END IF;
      IF v_candidate.drive_id IS NOT NULL THEN
        IF v_drive_at IS NULL THEN
          v_drives := v_drives || v_candidate.drive_id;
          v_drive_counts := v_drive_counts || 1;
        ELSE
          v_drive_counts[v_drive_at] := v_drive_counts[v_drive_at] + 1;
        END IF;
      END IF;
      IF v_type_at IS NOT NULL THEN
        v_type_room[v_type_at] := v_type_room[v_type_at] - 1;
      END IF;
      EXIT WHEN cardinality(v_ids) >= p_count;
    END IF;
    EXIT WHEN v_scanned >= p_count * 4;
  END LOOP;
  CLOSE v_scan;
  IF cardinality(v_ids) = 0 THEN
    RETURN;
  END IF;

  RETURN QUERY
  -- Each chosen row is looked up by its primary key (LATERAL ... LIMIT 1 keeps the planner from
  -- turning the lookups into a scan of every pending task).
  WITH locked AS (
         SELECT l.id FROM unnest(v_ids) AS c(id)
         CROSS JOIN LATERAL (SELECT t.id FROM ph_tasks t WHERE t.id = c.id AND t.status = 'pending' LIMIT 1 FOR UPDATE SKIP LOCKED) l
       ), claimed AS (
         UPDATE ph_tasks t
         SET status = 'running', attempts = t.attempts + 1, locked_by = p_worker, started_at = now(), updated_at = now(),
             lease_expires_at = now() + make_interval(secs => p_lease_ms / 1000.0), cancel_requested = false
         FROM locked WHERE t.id = locked.id
         RETURNING t.*
       ), logged AS (
         -- "running" enters the event log with the claim, before anything the run writes.
         INSERT INTO ph_task_events (task_id, kind, stream, data, bytes)
         SELECT c.id, 'status', NULL, x.data, octet_length(x.data)
         FROM claimed c CROSS JOIN LATERAL (
           SELECT json_build_object('status', 'running', 'attempt', c.attempts, 'workerId', p_worker)::text AS data) x
       )
  SELECT c.id, c.status, c.updated_at, c.result, c.error, c.type, c.title, c.instructions, c.params, c.priority, c.attempts,
         c.max_attempts, c.timeout_ms, c.idempotency_key, c.source, c.created_at
  FROM claimed c ORDER BY c.rank_at, c.id;
END
$fn$`;

const dropPrevious = "DROP FUNCTION IF EXISTS ph_finish_and_claim(text, text[], text[], jsonb[], jsonb[], text, int, int, int, float8, jsonb, bigint, text[])";

/** Event-log entries are removed with their task by the retention cleanup, not by a cascade (see above). */
const dropEventForeignKey = "ALTER TABLE ph_task_events DROP CONSTRAINT IF EXISTS ph_task_events_task_id_fkey";
/** Nothing reads entries by seq alone: (task_id, seq) serves replays and trims. One index less per entry. */
const dropEventPrimaryKey = "ALTER TABLE ph_task_events DROP CONSTRAINT IF EXISTS ph_task_events_pkey";

/*
 * Fewer index entries per claim and finish (neither can be a HOT update: status is in the indexes'
 * predicates). Tasks without an idempotency key no longer enter its unique index, and the running
 * tasks are counted per document and per drive from the one partial index of running tasks (the
 * lease index) instead of one index each: 12 entries per task → 8.
 */
const partialIdempotencyIndex = [
  "ALTER TABLE ph_tasks DROP CONSTRAINT IF EXISTS ph_tasks_idempotency_key_key",
  "CREATE UNIQUE INDEX IF NOT EXISTS ph_tasks_idempotency ON ph_tasks (idempotency_key) WHERE idempotency_key IS NOT NULL",
  "DROP INDEX IF EXISTS ph_tasks_running_document",
  "DROP INDEX IF EXISTS ph_tasks_running_drive",
];

/** Run one by one: the function body holds semicolons of its own. */
export const statements = [dropPrevious, dropEventForeignKey, dropEventPrimaryKey, ...partialIdempotencyIndex, finishAndClaim];
