/** /api/templates: named task templates — put (create or replace), list, get, remove. */
import { Router } from "express";
import { templateToJson, type TemplateService } from "../../templates/template-service.js";
import { notFound, route } from "./route.js";

export function templateRoutes(templates: TemplateService): Router {
  const router = Router();
  router.get("/api/templates", route(async (_req, res) => {
    res.json({ templates: (await templates.list()).map(templateToJson) });
  }));
  router.put("/api/templates/:name", route(async (req, res) => {
    const { row, created } = await templates.put(String(req.params.name), req.body);
    res.status(created ? 201 : 200).json({ template: templateToJson(row) });
  }));
  router.get("/api/templates/:name", route(async (req, res) => {
    const name = String(req.params.name);
    const row = await templates.get(name);
    if (!row) return notFound(res, "template", name);
    res.json({ template: templateToJson(row) });
  }));
  router.delete("/api/templates/:name", route(async (req, res) => {
    const name = String(req.params.name);
    if (!(await templates.remove(name))) return notFound(res, "template", name);
    res.status(204).end();
  }));
  return router;
}
