import type { Queryable } from "../../db.js";
import type { WorkerBeat } from "./worker-row.js";
import type { SchemaState } from "../../schema-compatibility.js";

/** What a heartbeat reads back: the drain asked of the worker, and which agents the store admits (029). */
export interface BeatAnswer {
  drain: { drainReason: string } | undefined;
  schema: SchemaState;
}

/**
 * A worker's heartbeat: its row written (created the first time), seen now; returns the drain asked
 * of it, if any. A drain is kept while the same process beats (same start time) and dropped for a
 * new one under the same id.
 */
export async function upsertWorker(db: Queryable, beat: WorkerBeat): Promise<BeatAnswer> {
  const { rows } = await db.query<{ draining: boolean; drain_reason: string; store_version: number; oldest_agent_schema: number }>(
    `INSERT INTO ph_workers (worker_id, host, pid, version, state, max_concurrent, prefetch, lease_ms, types, started_at, schema_version, last_seen_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text[], $10, $11, now())
     ON CONFLICT (worker_id) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid, version = EXCLUDED.version, state = EXCLUDED.state,
       schema_version = EXCLUDED.schema_version,
       max_concurrent = EXCLUDED.max_concurrent, prefetch = EXCLUDED.prefetch, lease_ms = EXCLUDED.lease_ms, types = EXCLUDED.types,
       started_at = EXCLUDED.started_at, last_seen_at = now(),
       drain_requested_at = CASE WHEN ph_workers.started_at = EXCLUDED.started_at THEN ph_workers.drain_requested_at END,
       drain_reason = CASE WHEN ph_workers.started_at = EXCLUDED.started_at THEN ph_workers.drain_reason ELSE '' END
     RETURNING drain_requested_at IS NOT NULL AS draining, drain_reason,
       (SELECT max(version) FROM ph_tasks_migrations) AS store_version, (SELECT oldest_agent_schema FROM ph_tasks_schema) AS oldest_agent_schema`,
    [beat.workerId, beat.host, beat.pid, beat.version, beat.state, beat.maxConcurrent, beat.prefetch, beat.leaseMs, [...beat.types], beat.startedAt, beat.schemaVersion],
  );
  const row = rows[0];
  return { drain: row?.draining ? { drainReason: row.drain_reason } : undefined, schema: { version: row?.store_version ?? 0, oldestAgentSchema: row?.oldest_agent_schema ?? 0 } };
}
