/**
 * /api/workers: the workers sharing this task store — each one's host, process, version, state
 * (running, stopping, or lost: not heard from for longer than its lease), slots, the task types it
 * claims now and the tasks the store shows it holding. A stopped worker leaves the list; a lost one
 * stays an hour.
 */
import { Router } from "express";
import type { WorkerRow } from "../../store/sql/workers/worker-row.js";
import type { WorkerStore } from "../../store/worker-store.js";
import { route } from "./route.js";

export function workerToJson(row: WorkerRow, selfId: string) {
  return {
    id: row.worker_id,
    self: row.worker_id === selfId,
    state: row.lost ? ("lost" as const) : row.state,
    host: row.host,
    pid: row.pid,
    version: row.version,
    maxConcurrent: row.max_concurrent,
    prefetch: row.prefetch,
    types: row.types,
    holding: row.holding,
    leaseMs: row.lease_ms,
    startedAt: row.started_at.toISOString(),
    lastSeenAt: row.last_seen_at.toISOString(),
  };
}

export function workerRoutes(workers: WorkerStore, selfId: string): Router {
  const router = Router();
  router.get("/api/workers", route(async (_req, res) => {
    res.json({ workers: (await workers.list()).map((row) => workerToJson(row, selfId)) });
  }));
  return router;
}
