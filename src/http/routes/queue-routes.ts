/**
 * /api/queue: pause the queue (every type, or some) and resume it. While a type is paused no
 * worker claims its tasks; they are still accepted and wait, and running ones finish.
 */
import { Router } from "express";
import { pauseToJson, type PauseService } from "../../queue/pause-service.js";
import { route } from "./route.js";

export function queueRoutes(pauses: PauseService): Router {
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

  return router;
}
