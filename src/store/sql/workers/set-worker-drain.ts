import type { Queryable } from "../../db.js";

/**
 * Asks a worker to drain (claim nothing more; `reason` kept), or — `reason` undefined — to claim
 * again. Returns whether the worker is on record.
 */
export async function setWorkerDrain(db: Queryable, workerId: string, reason: string | undefined): Promise<boolean> {
  const { rows } = await db.query(
    `UPDATE ph_workers SET drain_requested_at = CASE WHEN $2::text IS NULL THEN NULL ELSE coalesce(drain_requested_at, now()) END,
                           drain_reason = coalesce($2::text, '')
     WHERE worker_id = $1 RETURNING worker_id`,
    [workerId, reason ?? null],
  );
  return rows.length > 0;
}
