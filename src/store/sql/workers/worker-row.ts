/** A row of ph_workers, with what the store holds for that worker now. */
export interface WorkerRow {
  worker_id: string;
  host: string;
  pid: number;
  version: string;
  state: "running" | "stopping";
  max_concurrent: number;
  prefetch: number;
  lease_ms: number;
  types: string[];
  started_at: Date;
  last_seen_at: Date;
  /** Asked to drain (claim nothing more) at; null: not draining. */
  drain_requested_at: Date | null;
  drain_reason: string;
  /** The newest migration its code knows (029); null for workers older than that. */
  schema_version: number | null;
  /** Not heard from for longer than its lease (computed on the database's clock). */
  lost: boolean;
  /** Tasks the store shows it holding: running, and claimed ahead waiting for a slot. */
  holding: number;
  /** Its runs that ended completed / failed for good in the last hour. */
  completed_last_hour: number;
  failed_last_hour: number;
}

/** What a worker says of itself at each heartbeat. */
export interface WorkerBeat {
  workerId: string;
  host: string;
  pid: number;
  version: string;
  state: "running" | "stopping";
  maxConcurrent: number;
  prefetch: number;
  leaseMs: number;
  types: readonly string[];
  startedAt: Date;
  /** The newest migration this worker's code knows. */
  schemaVersion: number;
}

/** What a worker is doing, as the list shows it: a drained worker claims nothing and holds nothing. */
export function workerState(row: WorkerRow): "running" | "draining" | "drained" | "stopping" | "lost" {
  if (row.lost) return "lost";
  if (row.state === "stopping") return "stopping";
  if (row.drain_requested_at) return row.holding > 0 ? "draining" : "drained";
  return "running";
}
