/** /api/pipelines: create (every field error at once), list, get one with its steps, cancel, retry. */
import { callerOf } from "../auth.js";
import { Router } from "express";
import { z } from "zod";
import { PIPELINE_STATUSES, type PipelineService, type PipelineView } from "../../pipelines/pipeline-service.js";
import { parseWith } from "../../validation.js";
import { taskToJson } from "../task-json.js";
import { badRequest, notFound, route } from "./route.js";

const ListQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(20),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  status: z.enum(PIPELINE_STATUSES, { error: `must be one of ${PIPELINE_STATUSES.join(", ")}` }).optional(),
});

export function pipelineToJson(pipeline: PipelineView): Record<string, unknown> {
  return {
    ...pipeline,
    createdAt: pipeline.createdAt.toISOString(),
    steps: pipeline.steps.map((step) => ({ ...step, task: step.task ? taskToJson(step.task) : null })),
  };
}

export function pipelineRoutes(pipelines: PipelineService): Router {
  const router = Router();
  router.post("/api/pipelines", route(async (req, res) => {
    // Each step's task records who asked, as a named token (API_USERS) proves it (source.by).
    const { pipeline, created } = await pipelines.create(req.body, "api", undefined, callerOf(res));
    res.status(created ? 201 : 200).json({ pipeline: pipelineToJson(pipeline), created });
  }));
  router.get("/api/pipelines", route(async (req, res) => {
    const query = parseWith(ListQuerySchema, req.query);
    if (!query.ok) return badRequest(res, "query", query.errors);
    const { limit, offset, status } = query.value;
    res.json({ pipelines: (await pipelines.list(limit, offset, status)).map(pipelineToJson), limit, offset });
  }));
  router.get("/api/pipelines/:id", route(async (req, res) => {
    const id = String(req.params.id);
    const pipeline = await pipelines.get(id);
    if (!pipeline) return notFound(res, "pipeline", id);
    res.json({ pipeline: pipelineToJson(pipeline) });
  }));
  router.post("/api/pipelines/:id/cancel", route(async (req, res) => {
    const id = String(req.params.id);
    const cancelled = await pipelines.cancel(id);
    if (!cancelled) return notFound(res, "pipeline", id);
    res.status(202).json({ cancelled });
  }));
  router.post("/api/pipelines/:id/retry", route(async (req, res) => {
    const id = String(req.params.id);
    const retried = await pipelines.retry(id);
    if (!retried) return notFound(res, "pipeline", id);
    res.json({ retried });
  }));
  return router;
}
