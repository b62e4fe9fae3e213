/**
 * One round trip per cycle: ph_finish_and_claim records the ends of a worker's finished runs and
 * claims tasks for its free slots in one call and one transaction (migration 003's claim did the
 * claim only, and finishing cost a second statement plus a NOTIFY).
 *
 * It also stops the claim from reading every pending task. Migration 003 let the planner choose
 * how to find the first candidates in rank order, and with the row estimates of a queue table (never
 * analysed, or analysed when it was nearly empty) it chose to fetch and sort ALL pending tasks on
 * every claim: 5 to 14 ms per claim with 5,000 queued. Here the candidates come from an explicit
 * cursor, which PL/pgSQL plans for a fast start: it walks ph_tasks_claimable in rank order and stops
 * after `count × 4` candidates, however long the queue is.
 *
 * The rules are migration 003's, unchanged: the advisory lock serialises claims across every
 * worker (see claim-tasks.ts), each statement after it takes a fresh snapshot, saturated documents,
 * drives and types are skipped inside the scan, and the per-document, per-drive and per-type
 * positions of the candidates are checked against the running counts before anything is claimed.
 * Only the chosen rows are locked (SKIP LOCKED: a cancel touching one just leaves it out).
 */
export const name = "finish-and-claim";

const finishAndClaim = `
CREATE FUNCTION ph_finish_and_claim(
  p_worker text,
  p_finish_ids text[], p_finish_statuses text[], p_finish_results jsonb[], p_finish_errors jsonb[], p_notify text,
  p_count int, p_max_per_document int, p_max_per_drive int, p_lease_ms float8, p_type_slots jsonb, p_lock bigint, p_types text[])
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
  -- Finished runs first, fenced by the worker id: a worker that lost its lease records nothing.
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
         SELECT t.id FROM ph_tasks t
         WHERE t.id IN (SELECT id FROM chosen) AND t.status = 'pending'
         FOR UPDATE SKIP LOCKED
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

/** Replaced: nothing calls the claim-only function any more. */
const dropOldClaim = "DROP FUNCTION IF EXISTS ph_claim_tasks(text, int, int, int, float8, jsonb, bigint, text[])";

/** Run one by one: the function body holds semicolons of its own. */
export const statements = [finishAndClaim, dropOldClaim];
