import type { Queryable } from "../db.js";

/**
 * Extends the leases of a worker's running tasks and reports which of them were asked to
 * cancel (by another process) and which it no longer holds (its lease expired and was taken).
 */
export async function renewLeases(db: Queryable, workerId: string, ids: readonly string[], leaseMs: number): Promise<{ id: string; cancel_requested: boolean }[]> {
  const { rows } = await db.query<{ id: string; cancel_requested: boolean }>(
    `UPDATE ph_tasks SET lease_expires_at = now() + make_interval(secs => $3 / 1000.0)
     WHERE id = ANY($2::text[]) AND status = 'running' AND locked_by = $1
     RETURNING id, cancel_requested`,
    [workerId, ids, leaseMs],
  );
  return rows;
}
