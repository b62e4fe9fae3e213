/**
 * GET /api/spend — what runs cost (tasks/spend-report.ts): the last 24 hours against the daily
 * budget (one set while the agents run, else TASK_BUDGET_USD_PER_DAY), `days` UTC days by type
 * (default 7, at most 400), the costliest tasks, and the drives whose writers and the people who
 * asked for most (the drives against their budgets) of the last 24 hours.
 * GET /api/budgets/daily — the daily budget now, whatever gives it, and the spend against it; PUT
 * and DELETE set one while the agents run, over TASK_BUDGET_USD_PER_DAY (queue/daily-budget-service.ts).
 * GET /api/budgets/drives — every drive with a budget of its own and its spend; PUT and DELETE
 * /api/budgets/drives/:drive set one while the agents run (queue/drive-budget-service.ts). The
 * read-only token may read them, not change them.
 */
import { Router, type Request, type Response } from "express";
import { z } from "zod";
import type { DailyBudgetService } from "../../queue/daily-budget-service.js";
import type { DriveBudgetService } from "../../queue/drive-budget-service.js";
import type { SpendStore } from "../../store/spend-store.js";
import { blindWarning } from "../../tasks/budget-blind-workers.js";
import { spendReport, type Budgets } from "../../tasks/spend-report.js";
import { parseWith } from "../../validation.js";
import { actorOf } from "../auth.js";
import { badRequest, route } from "./route.js";

const SpendQuerySchema = z.strictObject({
  days: z.coerce.number().int().min(1).max(400).default(7),
});

export interface BudgetServices {
  daily: DailyBudgetService;
  drives: DriveBudgetService;
}

export function spendRoutes(store: SpendStore, budgets: Budgets, services: BudgetServices, options: { tokenRequired: boolean }): Router {
  const { daily, drives: driveBudgets } = services;
  const router = Router();
  router.get("/api/spend", route(async (req: Request, res: Response) => {
    const query = parseWith(SpendQuerySchema, req.query);
    if (!query.ok) return badRequest(res, "query", query.errors);
    res.json(await spendReport(store, budgets, query.value.days));
  }));
  // Each answer names the workers that do not read budgets set here (a rolling upgrade's older ones).
  const blindToDaily = () => blindWarning(store.db, "daily");
  const blindToDrives = () => blindWarning(store.db, "drives");
  router.get("/api/budgets/daily", route(async (_req, res) => {
    res.json({ daily: await daily.get(), ...(await blindToDaily()) });
  }));
  router.put("/api/budgets/daily", route(async (req, res) => {
    res.json({ daily: await daily.set(req.body, actorOf(res, options.tokenRequired)), ...(await blindToDaily()) });
  }));
  router.delete("/api/budgets/daily", route(async (_req, res) => {
    const entry = await daily.remove(actorOf(res, options.tokenRequired));
    if (entry) return void res.json({ removed: true, daily: entry, ...(await blindToDaily()) });
    res.status(404).json({ error: "not_found", message: "no daily budget is set with ph-tasks budget daily (TASK_BUDGET_USD_PER_DAY is changed in the agent's settings)" });
  }));
  router.get("/api/budgets/drives", route(async (_req, res) => {
    res.json({ ...(await driveBudgets.list()), ...(await blindToDrives()) });
  }));
  router.put("/api/budgets/drives/:drive", route(async (req, res) => {
    res.json({ drive: await driveBudgets.set(String(req.params.drive), req.body, actorOf(res, options.tokenRequired)), ...(await blindToDrives()) });
  }));
  router.delete("/api/budgets/drives/:drive", route(async (req, res) => {
    const drive = String(req.params.drive);
    const entry = await driveBudgets.remove(drive, actorOf(res, options.tokenRequired));
    if (entry) return void res.json({ removed: entry.driveId, drive: entry, ...(await blindToDrives()) });
    res.status(404).json({ error: "not_found", message: `drive '${drive}' has no budget set with ph-tasks budget (one named in TASK_DRIVE_BUDGETS_USD_PER_DAY is changed there)` });
  }));
  return router;
}
