/**
 * /api/schedules: cron schedules that make tasks. Create (every field error at once), list, get
 * one (by id or name), change, remove.
 */
import { Router } from "express";
import type { ScheduleService } from "../../schedules/schedule-service.js";
import { scheduleToJson } from "../../schedules/schedule-schema.js";
import { notFound, route } from "./route.js";

export function scheduleRoutes(schedules: ScheduleService): Router {
  const router = Router();

  router.get("/api/schedules", route(async (_req, res) => {
    res.json({ schedules: (await schedules.list()).map(scheduleToJson) });
  }));

  router.post("/api/schedules", route(async (req, res) => {
    res.status(201).json({ schedule: scheduleToJson(await schedules.create(req.body)) });
  }));

  router.get("/api/schedules/:id", route(async (req, res) => {
    const id = String(req.params.id);
    const row = await schedules.get(id);
    if (!row) return notFound(res, "schedule", id);
    res.json({ schedule: scheduleToJson(row) });
  }));

  router.patch("/api/schedules/:id", route(async (req, res) => {
    const id = String(req.params.id);
    const row = await schedules.update(id, req.body);
    if (!row) return notFound(res, "schedule", id);
    res.json({ schedule: scheduleToJson(row) });
  }));

  router.delete("/api/schedules/:id", route(async (req, res) => {
    const id = String(req.params.id);
    if (!(await schedules.remove(id))) return notFound(res, "schedule", id);
    res.status(204).end();
  }));

  return router;
}
