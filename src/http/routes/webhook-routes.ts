/**
 * Outbound webhooks over HTTP, behind the API token: /api/webhooks to create (the secret shown
 * once), list, get, change and remove them; /api/webhooks/<name>/deliveries to see what was sent
 * (and what failed, and why), POST .../deliveries/<id>/redeliver to send one again, and POST
 * /api/webhooks/<name>/ping to send a "ping" that is about no task (to check the receiver).
 */
import { Router } from "express";
import { deliveryToJson, webhookToJson } from "../../webhooks/webhook-schema.js";
import type { WebhookService } from "../../webhooks/webhook-service.js";
import { notFound, route } from "./route.js";

export function webhookRoutes(webhooks: WebhookService): Router {
  const router = Router();
  const found = async (id: string) => webhooks.get(id);
  router.get("/api/webhooks", route(async (_req, res) => {
    const [{ rows, counts }, limits] = await Promise.all([webhooks.list(), webhooks.rateLimitsOf()]);
    res.json({ webhooks: rows.map((row) => webhookToJson(row, counts.get(row.id), { rateLimit: limits.get(row.id) })) });
  }));
  router.post("/api/webhooks", route(async (req, res) => {
    const row = await webhooks.create(req.body);
    res.status(201).json({ webhook: webhookToJson(row, undefined, { withSecret: true, rateLimit: (await webhooks.rateLimitsOf([row.id])).get(row.id) }) });
  }));
  router.get("/api/webhooks/:id", route(async (req, res) => {
    const id = String(req.params.id);
    const row = await found(id);
    if (!row) return notFound(res, "webhook", id);
    res.json({ webhook: webhookToJson(row, await webhooks.counts(row.id), { rateLimit: (await webhooks.rateLimitsOf([row.id])).get(row.id) }) });
  }));
  router.patch("/api/webhooks/:id", route(async (req, res) => {
    const id = String(req.params.id);
    const row = await webhooks.update(id, req.body);
    if (!row) return notFound(res, "webhook", id);
    const rotated = typeof req.body === "object" && req.body !== null && (req.body as { rotateSecret?: unknown }).rotateSecret === true;
    res.json({ webhook: webhookToJson(row, await webhooks.counts(row.id), { withSecret: rotated, rateLimit: (await webhooks.rateLimitsOf([row.id])).get(row.id) }) });
  }));
  router.delete("/api/webhooks/:id", route(async (req, res) => {
    const id = String(req.params.id);
    if (!(await webhooks.remove(id))) return notFound(res, "webhook", id);
    res.status(204).end();
  }));
  router.get("/api/webhooks/:id/deliveries", route(async (req, res) => {
    const id = String(req.params.id);
    const row = await found(id);
    if (!row) return notFound(res, "webhook", id);
    res.json({ deliveries: (await webhooks.deliveries(row, req.query)).map(deliveryToJson) });
  }));
  router.post("/api/webhooks/:id/ping", route(async (req, res) => {
    const id = String(req.params.id);
    const row = await found(id);
    if (!row) return notFound(res, "webhook", id);
    res.status(202).json({ delivery: deliveryToJson(await webhooks.ping(row)) });
  }));
  router.post("/api/webhooks/:id/deliveries/:delivery/redeliver", route(async (req, res) => {
    const id = String(req.params.id);
    const row = await found(id);
    if (!row) return notFound(res, "webhook", id);
    const delivery = String(req.params.delivery);
    const again = await webhooks.redeliver(row, delivery);
    if (!again) return notFound(res, `delivery of webhook '${row.name}' (or one not being sent right now)`, delivery);
    res.status(202).json({ delivery: deliveryToJson(again) });
  }));
  return router;
}
