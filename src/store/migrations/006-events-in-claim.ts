/**
 * ph_finish_and_claim, second version: the round trip that records ends of runs and claims also
 * carries the worker's buffered event-log entries (status changes, output chunks), so a no-op task
 * costs no INSERT and no commit of its own for its events, and a task's "completed" entry commits
 * with its status. It can also commit asynchronously (TASK_STORE_ASYNC_COMMIT: claims and finishes
 * only; an enqueue always waits for the disk). The rows are locked through the primary key: with
 * `id IN (...)` and no statistics, the planner walked the whole claimable index instead.
 * Everything else is migration 005's.
 */
export const name = "events-in-claim";

const finishAndClaim = `
CREATE FUNCTION ph_finish_and_claim(
  p_worker text,
  p_finish_ids text[], p_finish_statuses text[], p_finish_results jsonb[], p_finish_errors jsonb[], p_notify text,
  p_count int, p_max_per_document int, p_max_per_drive int, p_lease_ms float8, p_type_slots jsonb, p_lock bigint, p_types text[],
  p_events jsonb, p_async_commit boolean)
RETURNS TABLE (id text, status text, updated_at timestamptz, result jsonb, error jsonb, type text, title text, instructions text,
               params jsonb, priority int, attempts int, max_attempts int, timeout_ms int, idempotency_key text, source jsonb,
               created_at timestamptz)
LANGUAGE plpgsql VOLATILE AS $fn$
#variable_conflict use_column
DECLARE
  v_finished bigint := 0;
  v_scan refcursor;
  v_id text;
  v_document text;
  v_drive text;
  v_type text;
  v_rank timestamptz;
  v_ids text[] := '{}';
  v_documents text[] := '{}';
  v_drives text[] := '{}';
  v_types text[] := '{}';
  v_ranks timestamptz[] := '{}';
BEGIN
  IF p_async_commit THEN
    -- Transaction-local: this transaction's commit does not wait for the WAL flush.
    PERFORM set_config('synchronous_commit', 'off', true);
  END IF;
  -- Event-log entries first: they were buffered before the ends they precede.
  IF jsonb_array_length(p_events) > 0 THEN
    INSERT INTO ph_task_events (task_id, kind, stream, data, bytes)
    SELECT e.task_id, e.kind, e.stream, e.data, e.bytes
    FROM jsonb_to_recordset(p_events) AS e(task_id text, kind text, stream text, data text, bytes int)
    WHERE EXISTS (SELECT 1 FROM ph_tasks x WHERE x.id = e.task_id);
  END IF;
  -- Finished runs next, fenced by the worker id: a worker that lost its lease records nothing.
  IF cardinality(p_finish_ids) > 0 THEN
    RETURN QUERY
    UPDATE ph_tasks t
    SET status = f.status, result = f.result, error = f.error, finished_at = now(), updated_at = now(), last_worker = t.locked_by,
        locked_by = NULL, lease_expires_at = NULL, cancel_requested = false
    FROM unnest(p_finish_ids, p_finish_statuses, p_finish_results, p_finish_errors) AS f(id, status, result, error)
    WHERE t.id = f.id AND t.status = 'running' AND t.locked_by = p_worker
    RETURNING t.id, t.status, t.updated_at, t.result, t.error, NULL, NULL, NULL, NULL::jsonb, NULL::int, NULL::int, NULL::int, NULL::int,
              NULL, NULL::jsonb, NULL::timestamptz;
    GET DIAGNOSTICS v_finished = ROW_COUNT;
    -- Slots freed: other workers may have tasks waiting on these documents and drives.
    IF v_finished > 0 AND p_notify IS NOT NULL THEN
      PERFORM pg_notify(p_notify, p_worker);
    END IF;
  END IF;

  IF p_count <= 0 OR cardinality(p_types) = 0 THEN
    RETURN;
  END IF;
  PERFORM pg_advisory_xact_lock(p_lock);

  OPEN v_scan FOR
    WITH busy_documents AS (
           SELECT document_id FROM ph_tasks WHERE status = 'running' AND document_id IS NOT NULL
           GROUP BY document_id HAVING count(*) >= p_max_per_document
         ), busy_drives AS (
           SELECT drive_id FROM ph_tasks WHERE status = 'running' AND drive_id IS NOT NULL
           GROUP BY drive_id HAVING count(*) >= p_max_per_drive
         ), full_types AS (
           SELECT key AS type FROM jsonb_each_text(p_type_slots) WHERE value::int <= 0
         )
    SELECT t.id, t.document_id, t.drive_id, t.type, t.rank_at
    FROM ph_tasks t
    WHERE t.status = 'pending' AND t.run_at <= now() AND t.type = ANY(p_types)
      AND NOT EXISTS (SELECT 1 FROM busy_documents b WHERE b.document_id = t.document_id)
      AND NOT EXISTS (SELECT 1 FROM busy_drives b WHERE b.drive_id = t.drive_id)
      AND NOT EXISTS (SELECT 1 FROM full_types f WHERE f.type = t.type)
    ORDER BY t.rank_at, t.id;
  LOOP
    FETCH v_scan INTO v_id, v_document, v_drive, v_type, v_rank;
    EXIT WHEN NOT FOUND;
    v_ids := v_ids || v_id;
    v_documents := v_documents || v_document;
    v_drives := v_drives || v_drive;
    v_types := v_types || v_type;
    v_ranks := v_ranks || v_rank;
    EXIT WHEN cardinality(v_ids) >= p_count * 4;
  END LOOP;
  CLOSE v_scan;
  IF cardinality(v_ids) = 0 THEN
    RETURN;
  END IF;

  RETURN QUERY
  WITH candidates AS (
         SELECT * FROM unnest(v_ids, v_documents, v_drives, v_types, v_ranks) AS c(id, document_id, drive_id, type, rank_at)
       ), type_slots AS (
         SELECT key AS type, value::int AS slots FROM jsonb_each_text(p_type_slots)
       ), by_document AS (
         SELECT c.*, row_number() OVER (PARTITION BY c.document_id ORDER BY c.rank_at, c.id) AS position
         FROM candidates c
       ), document_ok AS (
         SELECT d.* FROM by_document d
         WHERE d.document_id IS NULL
            OR d.position + (SELECT count(*) FROM ph_tasks r WHERE r.status = 'running' AND r.document_id = d.document_id) <= p_max_per_document
       ), by_drive AS (
         SELECT d.*, row_number() OVER (PARTITION BY d.drive_id ORDER BY d.rank_at, d.id) AS drive_position
         FROM document_ok d
       ), drive_ok AS (
         SELECT d.* FROM by_drive d
         WHERE d.drive_id IS NULL
            OR d.drive_position + (SELECT count(*) FROM ph_tasks r WHERE r.status = 'running' AND r.drive_id = d.drive_id) <= p_max_per_drive
       ), by_type AS (
         SELECT d.*, row_number() OVER (PARTITION BY d.type ORDER BY d.rank_at, d.id) AS type_position
         FROM drive_ok d
       ), chosen AS (
         SELECT b.id FROM by_type b
         LEFT JOIN type_slots s ON s.type = b.type
         WHERE s.slots IS NULL OR b.type_position <= s.slots
         ORDER BY b.rank_at, b.id
         LIMIT p_count
       ), locked AS (
         SELECT t.id FROM chosen c JOIN ph_tasks t ON t.id = c.id
         WHERE t.status = 'pending'
         FOR UPDATE OF t SKIP LOCKED
       ), claimed AS (
         UPDATE ph_tasks t
         SET status = 'running', attempts = t.attempts + 1, locked_by = p_worker, started_at = now(), updated_at = now(),
             lease_expires_at = now() + make_interval(secs => p_lease_ms / 1000.0), cancel_requested = false
         FROM locked WHERE t.id = locked.id
         RETURNING t.*
       )
  SELECT c.id, c.status, c.updated_at, c.result, c.error, c.type, c.title, c.instructions, c.params, c.priority, c.attempts,
         c.max_attempts, c.timeout_ms, c.idempotency_key, c.source, c.created_at
  FROM claimed c ORDER BY c.rank_at, c.id;
END
$fn$`;

const dropPrevious = "DROP FUNCTION IF EXISTS ph_finish_and_claim(text, text[], text[], jsonb[], jsonb[], text, int, int, int, float8, jsonb, bigint, text[])";

/** Run one by one: the function body holds semicolons of its own. */
export const statements = [dropPrevious, finishAndClaim];
