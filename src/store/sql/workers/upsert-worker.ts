import type { Queryable } from "../../db.js";
import type { WorkerBeat } from "./worker-row.js";

/**
 * A worker's heartbeat: its row written (created the first time), seen now; returns the drain asked
 * of it, if any. A drain is kept while the same process beats (same start time) and dropped for a
 * new one under the same id.
 */
export async function upsertWorker(db: Queryable, beat: WorkerBeat): Promise<{ drainReason: string } | undefined> {
  const { rows } = await db.query<{ draining: boolean; drain_reason: string }>(
    `INSERT INTO ph_workers (worker_id, host, pid, version, state, max_concurrent, prefetch, lease_ms, types, started_at, last_seen_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text[], $10, now())
     ON CONFLICT (worker_id) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid, version = EXCLUDED.version, state = EXCLUDED.state,
       max_concurrent = EXCLUDED.max_concurrent, prefetch = EXCLUDED.prefetch, lease_ms = EXCLUDED.lease_ms, types = EXCLUDED.types,
       started_at = EXCLUDED.started_at, last_seen_at = now(),
       drain_requested_at = CASE WHEN ph_workers.started_at = EXCLUDED.started_at THEN ph_workers.drain_requested_at END,
       drain_reason = CASE WHEN ph_workers.started_at = EXCLUDED.started_at THEN ph_workers.drain_reason ELSE '' END
     RETURNING drain_requested_at IS NOT NULL AS draining, drain_reason`,
    [beat.workerId, beat.host, beat.pid, beat.version, beat.state, beat.maxConcurrent, beat.prefetch, beat.leaseMs, [...beat.types], beat.startedAt],
  );
  const row = rows[0];
  return row?.draining ? { drainReason: row.drain_reason } : undefined;
}
