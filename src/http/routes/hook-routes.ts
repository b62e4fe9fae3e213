/**
 * Inbound webhooks over HTTP. `hookDeliveryRoute`: POST /hooks/<name>, outside the API token (a
 * sender signs with the hook's secret instead), raw body (the signature covers its exact bytes).
 * `hookRoutes`: /api/hooks to create (the secret shown once), list, get, change, remove.
 */
import express, { Router } from "express";
import { hookToJson } from "../../hooks/hook-schema.js";
import type { HookService } from "../../hooks/hook-service.js";
import type { HookReceiver } from "../../hooks/hook-receiver.js";
import { notFound, route } from "./route.js";

export function hookDeliveryRoute(receiver: HookReceiver): Router {
  const router = Router();
  router.post("/hooks/:name", express.raw({ type: () => true, limit: "1mb" }), route(async (req, res) => {
    const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const answer = await receiver.receive(String(req.params.name), { rawBody, headers: req.headers, query: req.query });
    if (answer.status === 429) res.setHeader("Retry-After", String(answer.retryAfterSeconds));
    res.status(answer.status).json(answer.body);
  }));
  return router;
}

export function hookRoutes(hooks: HookService): Router {
  const router = Router();
  router.get("/api/hooks", route(async (_req, res) => {
    const [rows, limits] = await Promise.all([hooks.list(), hooks.rateLimitsOf()]);
    res.json({ hooks: rows.map((row) => hookToJson(row, { rateLimit: limits.get(row.id) })) });
  }));
  router.post("/api/hooks", route(async (req, res) => {
    const row = await hooks.create(req.body);
    res.status(201).json({ hook: hookToJson(row, { withSecret: true, rateLimit: (await hooks.rateLimitsOf([row.id])).get(row.id) }) });
  }));
  router.get("/api/hooks/:id", route(async (req, res) => {
    const id = String(req.params.id);
    const row = await hooks.get(id);
    if (!row) return notFound(res, "hook", id);
    res.json({ hook: hookToJson(row, { rateLimit: (await hooks.rateLimitsOf([row.id])).get(row.id) }) });
  }));
  router.patch("/api/hooks/:id", route(async (req, res) => {
    const id = String(req.params.id);
    const row = await hooks.update(id, req.body);
    if (!row) return notFound(res, "hook", id);
    const rotated = typeof req.body === "object" && req.body !== null && (req.body as { rotateSecret?: unknown }).rotateSecret === true;
    res.json({ hook: hookToJson(row, { withSecret: rotated, rateLimit: (await hooks.rateLimitsOf([row.id])).get(row.id) }) });
  }));
  // The task a delivery would make, filled and checked, none made (for writing a hook's template).
  router.post("/api/hooks/:id/preview", route(async (req, res) => {
    const id = String(req.params.id);
    const preview = await hooks.preview(id, req.body);
    if (!preview) return notFound(res, "hook", id);
    res.json({ task: preview.task, valid: preview.errors.length === 0, errors: preview.errors });
  }));
  router.delete("/api/hooks/:id", route(async (req, res) => {
    const id = String(req.params.id);
    if (!(await hooks.remove(id))) return notFound(res, "hook", id);
    res.status(204).end();
  }));
  return router;
}
