/**
 * GET /api/spend — what runs cost (tasks/spend-report.ts): the last 24 hours against the daily
 * budget (TASK_BUDGET_USD_PER_DAY), `days` UTC days by type (default 7, at most 400), the costliest
 * tasks and the drives whose writers asked for most (against TASK_BUDGET_USD_PER_DRIVE_PER_DAY) of
 * the last 24 hours. The read-only token may read it too.
 */
import { Router, type Request, type Response } from "express";
import { z } from "zod";
import type { SpendStore } from "../../store/spend-store.js";
import { spendReport, type Budgets } from "../../tasks/spend-report.js";
import { parseWith } from "../../validation.js";
import { badRequest, route } from "./route.js";

const SpendQuerySchema = z.strictObject({
  days: z.coerce.number().int().min(1).max(400).default(7),
});

export function spendRoutes(store: SpendStore, budgets: Budgets): Router {
  const router = Router();
  router.get("/api/spend", route(async (req: Request, res: Response) => {
    const query = parseWith(SpendQuerySchema, req.query);
    if (!query.ok) return badRequest(res, "query", query.errors);
    res.json(await spendReport(store, budgets, query.value.days));
  }));
  return router;
}
