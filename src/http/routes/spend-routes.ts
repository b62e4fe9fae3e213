/**
 * GET /api/spend — what runs cost (tasks/spend-report.ts): the last 24 hours against the daily
 * budget (one set while the agents run, else TASK_BUDGET_USD_PER_DAY), `days` UTC days by type
 * (default 7, at most 400), the costliest tasks, and the drives whose writers and the people who
 * asked for most (each against its budget) of the last 24 hours. GET /api/spend/drives/:drive and
 * /api/spend/people/:person: what one drive's writers or one person spent — their budget, their
 * days, their costliest tasks.
 * GET /api/budgets/daily — the daily budget now, whatever gives it, and the spend against it; PUT
 * and DELETE set one while the agents run, over TASK_BUDGET_USD_PER_DAY (queue/daily-budget-service.ts).
 * GET /api/budgets/drives — every drive with a budget of its own and its spend; PUT and DELETE
 * /api/budgets/drives/:drive set one while the agents run (GET one drive's: whatever gives it);
 * likewise /api/budgets/people and /api/budgets/people/:person for each person's
 * (queue/holder-budget-service.ts). The read-only token may read them, not change them.
 */
import { Router, type Request, type Response } from "express";
import { z } from "zod";
import type { DailyBudgetService } from "../../queue/daily-budget-service.js";
import type { HolderBudgetService } from "../../queue/holder-budget-service.js";
import type { SpendStore } from "../../store/spend-store.js";
import { blindWarning } from "../../tasks/budget-blind-workers.js";
import { unknownPersonWarning } from "../../tasks/person-budget-names.js";
import { spendReport, type Budgets } from "../../tasks/spend-report.js";
import { parseWith } from "../../validation.js";
import { actorOf } from "../auth.js";
import { badRequest, route } from "./route.js";

const SpendQuerySchema = z.strictObject({
  days: z.coerce.number().int().min(1).max(400).default(7),
});

export interface BudgetServices {
  daily: DailyBudgetService;
  drives: HolderBudgetService;
  people: HolderBudgetService;
}

export interface SpendRouteOptions {
  tokenRequired: boolean;
  /** The names people are known by here: a person's budget set for another is warned of; absent: not checked. */
  knownPeople?: readonly string[] | undefined;
}

export function spendRoutes(store: SpendStore, budgets: Budgets, services: BudgetServices, options: SpendRouteOptions): Router {
  const { daily } = services;
  const router = Router();
  router.get("/api/spend", route(async (req: Request, res: Response) => {
    const query = parseWith(SpendQuerySchema, req.query);
    if (!query.ok) return badRequest(res, "query", query.errors);
    res.json(await spendReport(store, budgets, query.value.days));
  }));
  // Each answer names the workers that do not read budgets set here (a rolling upgrade's older ones).
  const blindToDaily = () => blindWarning(store.db, "daily");
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
  holderRoutes(router, services.drives, { path: "drives", one: "drive", blind: "drives", settings: "TASK_DRIVE_BUDGETS_USD_PER_DAY", cli: "ph-tasks budget" }, options);
  const known = options.knownPeople;
  const unknown = known ? (person: string) => unknownPersonWarning(person, known) : undefined;
  holderRoutes(router, services.people, { path: "people", one: "person", blind: "people", settings: "TASK_PERSON_BUDGETS_USD_PER_DAY", cli: "ph-tasks budget person", unknown }, options);
  return router;
}

/** How one kind of holder's routes are named: the path (and the list's field), one entry's field, the migration the blind workers lack, the settings a 404 points to. */
interface HolderRouteNames {
  path: "drives" | "people";
  one: "drive" | "person";
  blind: "drives" | "people";
  settings: string;
  cli: string;
  /** A warning for a holder this agent cannot tell apart from no one (a person no one is known as). */
  unknown?: ((id: string) => string | undefined) | undefined;
}

/** GET /api/budgets/<path>, and GET (one's, whatever gives it), PUT and DELETE /api/budgets/<path>/:id. */
function holderRoutes(router: Router, service: HolderBudgetService, names: HolderRouteNames, options: { tokenRequired: boolean }): void {
  const blind = () => blindWarning(service.store.db, names.blind);
  // What one drive's writers, or one person, spent: GET /api/spend/<path>/:id?days=.
  router.get(`/api/spend/${names.path}/:id`, route(async (req, res) => {
    const query = parseWith(SpendQuerySchema, req.query);
    if (!query.ok) return badRequest(res, "query", query.errors);
    res.json(await service.report(String(req.params.id), query.value.days));
  }));
  router.get(`/api/budgets/${names.path}`, route(async (_req, res) => {
    const { defaultUsdPerDay, entries } = await service.list();
    res.json({ defaultUsdPerDay, [names.path]: entries, ...(await blind()) });
  }));
  router.get(`/api/budgets/${names.path}/:id`, route(async (req, res) => {
    res.json({ [names.one]: await service.get(String(req.params.id)), ...(await blind()) });
  }));
  router.put(`/api/budgets/${names.path}/:id`, route(async (req, res) => {
    const id = String(req.params.id);
    const entry = await service.set(id, req.body, actorOf(res, options.tokenRequired));
    const { ignoredBy, warning } = await blind();
    // Both warnings in the one field the CLI and the dashboard show.
    const warnings = [warning, names.unknown?.(id)].filter((w): w is string => w !== undefined && w !== null);
    res.json({ [names.one]: entry, ignoredBy, warning: warnings.length > 0 ? warnings.join("; ") : null });
  }));
  router.delete(`/api/budgets/${names.path}/:id`, route(async (req, res) => {
    const id = String(req.params.id);
    const entry = await service.remove(id, actorOf(res, options.tokenRequired));
    if (entry) return void res.json({ removed: entry.driveId ?? entry.person ?? id, [names.one]: entry, ...(await blind()) });
    res.status(404).json({ error: "not_found", message: `${names.one} '${id}' has no budget set with ${names.cli} (one named in ${names.settings} is changed there)` });
  }));
}
