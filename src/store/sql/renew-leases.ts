import type { Queryable } from "../db.js";

/**
 * Extends the leases of a worker's running tasks and reports which of them were asked to
 * cancel (by another process) and which it no longer holds (its lease expired and was taken).
 *
 * Without waiting on a row another transaction has locked (SKIP LOCKED): a heartbeat that waited
 * for a run's end being recorded — which locks the same rows in another order — deadlocked with
 * it, and PostgreSQL cancelled one after a second; when the victim was the end, the task ran again
 * once its lease ran out (seen in the benchmark: a 30 s stall, a no-op run twice). A row skipped is
 * busy, not lost: it is reported held as this statement's snapshot shows it (its cancel flag is
 * read at the next heartbeat), and its lease is renewed next time if the worker still holds it.
 */
export async function renewLeases(db: Queryable, workerId: string, ids: readonly string[], leaseMs: number): Promise<{ id: string; cancel_requested: boolean }[]> {
  const { rows } = await db.query<{ id: string; cancel_requested: boolean }>(
    `WITH mine AS (
       SELECT id FROM ph_tasks WHERE id = ANY($2::text[]) AND status = 'running' AND locked_by = $1
     ), renewed AS (
       UPDATE ph_tasks t SET lease_expires_at = now() + make_interval(secs => $3 / 1000.0)
       FROM (SELECT id FROM ph_tasks WHERE id = ANY($2::text[]) AND status = 'running' AND locked_by = $1 FOR UPDATE SKIP LOCKED) free
       WHERE t.id = free.id
       RETURNING t.id, t.cancel_requested
     )
     SELECT id, cancel_requested FROM renewed
     UNION ALL
     SELECT m.id, false FROM mine m WHERE NOT EXISTS (SELECT 1 FROM renewed r WHERE r.id = m.id)`,
    [workerId, ids, leaseMs],
  );
  return rows;
}
