/**
 * /api/schedules: cron schedules that make tasks. Create (every field error at once), list, get
 * one (by id or name), change, remove.
 */
import { Router, type NextFunction, type Request, type Response } from "express";
import { ScheduleNameTakenError, type ScheduleService } from "../../schedules/schedule-service.js";
import { scheduleToJson } from "../../schedules/schedule-schema.js";
import { ValidationError } from "../../validation.js";

const route = (fn: (req: Request, res: Response) => Promise<unknown>) => (req: Request, res: Response, next: NextFunction) => {
  fn(req, res).catch((error: unknown) => {
    if (error instanceof ValidationError) return res.status(400).json({ error: "validation_failed", message: `invalid ${error.what}`, errors: error.errors });
    if (error instanceof ScheduleNameTakenError) return res.status(409).json({ error: "name_taken", message: error.message });
    next(error);
  });
};

function notFound(res: Response, id: string): void {
  res.status(404).json({ error: "not_found", message: `no schedule with id or name '${id}'` });
}

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
    if (!row) return notFound(res, id);
    res.json({ schedule: scheduleToJson(row) });
  }));

  router.patch("/api/schedules/:id", route(async (req, res) => {
    const id = String(req.params.id);
    const row = await schedules.update(id, req.body);
    if (!row) return notFound(res, id);
    res.json({ schedule: scheduleToJson(row) });
  }));

  router.delete("/api/schedules/:id", route(async (req, res) => {
    const id = String(req.params.id);
    if (!(await schedules.remove(id))) return notFound(res, id);
    res.status(204).end();
  }));

  return router;
}
