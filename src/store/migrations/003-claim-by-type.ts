/**
 * The claim takes only task types the claiming worker can run: workers with different executors
 * (a Claude-capable machine, a CLI-only one) share one database without failing each other's
 * tasks as "unknown type". Same function as migration 002 otherwise.
 */
export const name = "claim-by-type";

const drop = "DROP FUNCTION IF EXISTS ph_claim_tasks(text, int, int, int, float8, jsonb, bigint)";

const create = `
CREATE FUNCTION ph_claim_tasks(p_worker text, p_count int, p_max_per_document int, p_max_per_drive int, p_lease_ms float8, p_type_slots jsonb, p_lock bigint, p_types text[])
RETURNS SETOF ph_tasks
LANGUAGE plpgsql VOLATILE AS $fn$
BEGIN
  PERFORM pg_advisory_xact_lock(p_lock);
  RETURN QUERY
  WITH busy_documents AS (
         SELECT document_id FROM ph_tasks WHERE status = 'running' AND document_id IS NOT NULL
         GROUP BY document_id HAVING count(*) >= p_max_per_document
       ), busy_drives AS (
         SELECT drive_id FROM ph_tasks WHERE status = 'running' AND drive_id IS NOT NULL
         GROUP BY drive_id HAVING count(*) >= p_max_per_drive
       ), type_slots AS (
         SELECT key AS type, value::int AS slots FROM jsonb_each_text(p_type_slots)
       ), candidates AS (
         SELECT t.id, t.document_id, t.drive_id, t.type, t.rank_at
         FROM ph_tasks t
         WHERE t.status = 'pending' AND t.run_at <= now() AND t.type = ANY(p_types)
           AND NOT EXISTS (SELECT 1 FROM busy_documents b WHERE b.document_id = t.document_id)
           AND NOT EXISTS (SELECT 1 FROM busy_drives b WHERE b.drive_id = t.drive_id)
           AND NOT EXISTS (SELECT 1 FROM type_slots s WHERE s.type = t.type AND s.slots <= 0)
         ORDER BY t.rank_at, t.id
         LIMIT p_count * 4
         FOR UPDATE SKIP LOCKED
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
       )
       UPDATE ph_tasks t
       SET status = 'running', attempts = t.attempts + 1, locked_by = p_worker, started_at = now(), updated_at = now(),
           lease_expires_at = now() + make_interval(secs => p_lease_ms / 1000.0), cancel_requested = false
       FROM chosen WHERE t.id = chosen.id
       RETURNING t.*;
END
$fn$;
`;

/** Run one by one: the function body holds semicolons of its own. */
export const statements = [drop, create];
