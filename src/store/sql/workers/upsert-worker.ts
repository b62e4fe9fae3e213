import type { Queryable } from "../../db.js";
import type { WorkerBeat } from "./worker-row.js";

/** A worker's heartbeat: its row written (created the first time), seen now. */
export async function upsertWorker(db: Queryable, beat: WorkerBeat): Promise<void> {
  await db.query(
    `INSERT INTO ph_workers (worker_id, host, pid, version, state, max_concurrent, prefetch, lease_ms, types, started_at, last_seen_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text[], $10, now())
     ON CONFLICT (worker_id) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid, version = EXCLUDED.version, state = EXCLUDED.state,
       max_concurrent = EXCLUDED.max_concurrent, prefetch = EXCLUDED.prefetch, lease_ms = EXCLUDED.lease_ms, types = EXCLUDED.types,
       started_at = EXCLUDED.started_at, last_seen_at = now()`,
    [beat.workerId, beat.host, beat.pid, beat.version, beat.state, beat.maxConcurrent, beat.prefetch, beat.leaseMs, [...beat.types], beat.startedAt],
  );
}
