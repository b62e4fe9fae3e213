/**
 * /api/queue: pause the queue (every type, or some) and resume it; limit how fast a task type
 * starts, and how many of it run at once. While a type is paused no worker claims its tasks; they are
 * still accepted and wait, and running ones finish. A rate-limited type starts at most `max` tasks in
 * any window of `per`; a capped type runs at most `max` at once across every worker.
 */
import { Router } from "express";
import { pauseToJson, type PauseService } from "../../queue/pause-service.js";
import { rateLimitToJson, type RateLimitService } from "../../queue/rate-limit-service.js";
import { concurrencyToJson, type ConcurrencyService } from "../../queue/concurrency-service.js";
import { route } from "./route.js";

export function queueRoutes(pauses: PauseService, rateLimits: RateLimitService, concurrency: ConcurrencyService): Router {
  const router = Router();

  router.get("/api/queue/pauses", route(async (_req, res) => {
    res.json({ pauses: (await pauses.list()).map(pauseToJson) });
  }));

  router.post("/api/queue/pause", route(async (req, res) => {
    res.json({ pauses: (await pauses.pause(req.body)).map(pauseToJson) });
  }));

  router.post("/api/queue/resume", route(async (req, res) => {
    const { resumed, pauses: left } = await pauses.resume(req.body);
    res.json({ resumed, pauses: left.map(pauseToJson) });
  }));

  router.get("/api/queue/rate-limits", route(async (_req, res) => {
    res.json({ rateLimits: (await rateLimits.list()).map(rateLimitToJson) });
  }));

  router.put("/api/queue/rate-limits/:type", route(async (req, res) => {
    res.json({ rateLimit: rateLimitToJson(await rateLimits.set(String(req.params.type), req.body)) });
  }));

  router.delete("/api/queue/rate-limits/:type", route(async (req, res) => {
    const type = String(req.params.type);
    if (await rateLimits.remove(type)) return void res.json({ removed: type });
    res.status(404).json({ error: "not_found", message: `task type '${type}' has no rate limit` });
  }));

  router.get("/api/queue/concurrency", route(async (_req, res) => {
    res.json({ concurrency: (await concurrency.list()).map(concurrencyToJson) });
  }));

  router.put("/api/queue/concurrency/:type", route(async (req, res) => {
    res.json({ concurrency: concurrencyToJson(await concurrency.set(String(req.params.type), req.body)) });
  }));

  router.delete("/api/queue/concurrency/:type", route(async (req, res) => {
    const type = String(req.params.type);
    if (await concurrency.remove(type)) return void res.json({ removed: type });
    res.status(404).json({ error: "not_found", message: `task type '${type}' has no concurrency cap` });
  }));

  return router;
}
