/** /api/templates: named task templates — put (create or replace), list, get, remove. */
import { Router, type NextFunction, type Request, type Response } from "express";
import { templateToJson, type TemplateService } from "../../templates/template-service.js";
import { ValidationError } from "../../validation.js";

const route = (fn: (req: Request, res: Response) => Promise<unknown>) => (req: Request, res: Response, next: NextFunction) => {
  fn(req, res).catch((error: unknown) => {
    if (error instanceof ValidationError) return res.status(400).json({ error: "validation_failed", message: `invalid ${error.what}`, errors: error.errors });
    next(error);
  });
};

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
    if (!row) return res.status(404).json({ error: "not_found", message: `no template with id or name '${name}'` });
    res.json({ template: templateToJson(row) });
  }));
  router.delete("/api/templates/:name", route(async (req, res) => {
    const name = String(req.params.name);
    if (!(await templates.remove(name))) return res.status(404).json({ error: "not_found", message: `no template with id or name '${name}'` });
    res.status(204).end();
  }));
  return router;
}
