import type { Db } from "../db.js";
import type { ClaimLimits, TaskRow } from "../interfaces.js";

/** Advisory lock key that serialises claims across every worker sharing the database ("phtc"). */
const CLAIM_LOCK = 0x70687463;

/**
 * Claims up to `count` claimable tasks for a worker, in rank order, never exceeding the
 * per-document and per-drive limits counted across ALL workers.
 *
 * Why a lock: two workers claiming at the same instant would each count the running tasks of a
 * document before the other's claim commits, and both would start one. Claims therefore take a
 * transaction-scoped advisory lock: counting and claiming happen as one step for the whole
 * cluster. A claim is one short statement (≈ a millisecond) and takes a batch of tasks, so the
 * lock is not what limits throughput. FOR UPDATE SKIP LOCKED still keeps claims from waiting on
 * rows a cancel or an enqueue is touching.
 *
 * Saturated documents and drives are filtered out before the scan window is cut, so a long queue
 * on one document cannot hide other documents' tasks.
 */
export async function claimTasks(db: Db, limits: ClaimLimits): Promise<TaskRow[]> {
  if (limits.count <= 0) return [];
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1)", [CLAIM_LOCK]);
    const { rows } = await tx.query<TaskRow>(
      `WITH busy_documents AS (
         SELECT document_id FROM ph_tasks WHERE status = 'running' AND document_id IS NOT NULL
         GROUP BY document_id HAVING count(*) >= $3
       ), busy_drives AS (
         SELECT drive_id FROM ph_tasks WHERE status = 'running' AND drive_id IS NOT NULL
         GROUP BY drive_id HAVING count(*) >= $4
       ), type_slots AS (
         SELECT key AS type, value::int AS slots FROM jsonb_each_text($6::jsonb)
       ), candidates AS (
         SELECT t.id, t.document_id, t.drive_id, t.type, t.rank_at
         FROM ph_tasks t
         WHERE t.status = 'pending' AND t.run_at <= now()
           AND NOT EXISTS (SELECT 1 FROM busy_documents b WHERE b.document_id = t.document_id)
           AND NOT EXISTS (SELECT 1 FROM busy_drives b WHERE b.drive_id = t.drive_id)
           AND NOT EXISTS (SELECT 1 FROM type_slots s WHERE s.type = t.type AND s.slots <= 0)
         ORDER BY t.rank_at, t.id
         LIMIT $2 * 4
         FOR UPDATE SKIP LOCKED
       ), by_document AS (
         SELECT c.*, row_number() OVER (PARTITION BY c.document_id ORDER BY c.rank_at, c.id) AS position
         FROM candidates c
       ), document_ok AS (
         SELECT d.* FROM by_document d
         WHERE d.document_id IS NULL
            OR d.position + (SELECT count(*) FROM ph_tasks r WHERE r.status = 'running' AND r.document_id = d.document_id) <= $3
       ), by_drive AS (
         SELECT d.*, row_number() OVER (PARTITION BY d.drive_id ORDER BY d.rank_at, d.id) AS drive_position
         FROM document_ok d
       ), drive_ok AS (
         SELECT d.* FROM by_drive d
         WHERE d.drive_id IS NULL
            OR d.drive_position + (SELECT count(*) FROM ph_tasks r WHERE r.status = 'running' AND r.drive_id = d.drive_id) <= $4
       ), by_type AS (
         SELECT d.*, row_number() OVER (PARTITION BY d.type ORDER BY d.rank_at, d.id) AS type_position
         FROM drive_ok d
       ), chosen AS (
         SELECT b.id FROM by_type b
         LEFT JOIN type_slots s ON s.type = b.type
         WHERE s.slots IS NULL OR b.type_position <= s.slots
         ORDER BY b.rank_at, b.id
         LIMIT $2
       )
       UPDATE ph_tasks t
       SET status = 'running', attempts = t.attempts + 1, locked_by = $1, started_at = now(), updated_at = now(),
           lease_expires_at = now() + make_interval(secs => $5 / 1000.0), cancel_requested = false
       FROM chosen WHERE t.id = chosen.id
       RETURNING t.*`,
      [limits.workerId, limits.count, limits.maxPerDocument, limits.maxPerDrive, limits.leaseMs, JSON.stringify(limits.typeSlots)],
    );
    return rows.sort((a, b) => a.rank_at.getTime() - b.rank_at.getTime());
  });
}
