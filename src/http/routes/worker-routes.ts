/**
 * /api/workers: the workers sharing this task store — each one's host, process, version, state
 * (running; draining and then drained when asked to claim nothing more; stopping; lost: not heard
 * from for longer than its lease), slots, the task types it claims and the tasks the store shows
 * it holding. A stopped worker leaves the list; a lost one stays an hour. POST .../drain asks a
 * worker to claim nothing more (it lets its runs finish, and returns what it claimed ahead) at
 * once — the request is announced to it, and its heartbeat reads it too; POST .../resume lets it claim again.
 */
import { Router, type Response } from "express";
import { z } from "zod";
import { workerState, type WorkerRow } from "../../store/sql/workers/worker-row.js";
import type { WorkerStore } from "../../store/worker-store.js";
import { parseWith } from "../../validation.js";
import { badRequest, notFound, route } from "./route.js";

const DrainSchema = z.strictObject({ reason: z.string().max(200).optional() });

export function workerToJson(row: WorkerRow, selfId: string) {
  return {
    id: row.worker_id,
    self: row.worker_id === selfId,
    state: workerState(row),
    host: row.host,
    pid: row.pid,
    version: row.version,
    /** The newest migration its code knows (null: a worker from before 029). */
    schemaVersion: row.schema_version,
    maxConcurrent: row.max_concurrent,
    prefetch: row.prefetch,
    types: row.types,
    holding: row.holding,
    lastHour: { completed: row.completed_last_hour, failed: row.failed_last_hour },
    leaseMs: row.lease_ms,
    startedAt: row.started_at.toISOString(),
    lastSeenAt: row.last_seen_at.toISOString(),
    drain: row.drain_requested_at ? { requestedAt: row.drain_requested_at.toISOString(), reason: row.drain_reason } : null,
  };
}

export function workerRoutes(workers: WorkerStore, selfId: string): Router {
  const router = Router();
  /** Sets or lifts a worker's drain, then answers with the worker as it is now (404 when unknown). */
  const setDrain = async (res: Response, id: string, reason: string | undefined) => {
    const row = (await workers.setDrain(id, reason)) ? (await workers.list()).find((w) => w.worker_id === id) : undefined;
    if (!row) return notFound(res, "worker", id);
    res.json({ worker: workerToJson(row, selfId) });
  };

  router.get("/api/workers", route(async (_req, res) => {
    res.json({ workers: (await workers.list()).map((row) => workerToJson(row, selfId)) });
  }));

  router.post("/api/workers/:id/drain", route(async (req, res) => {
    const id = String(req.params.id);
    const body = parseWith(DrainSchema, req.body ?? {});
    if (!body.ok) return badRequest(res, "drain request", body.errors);
    await setDrain(res, id, body.value.reason ?? "");
  }));

  router.post("/api/workers/:id/resume", route(async (req, res) => {
    await setDrain(res, String(req.params.id), undefined);
  }));
  return router;
}
