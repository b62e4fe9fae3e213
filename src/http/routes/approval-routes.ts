/**
 * Approval tasks over HTTP (src/tasks/approvals.ts): GET /api/approvals — those waiting for a
 * person's decision now, the longest waiting first; POST /api/tasks/:id/approve | reject — the
 * decision (`{ by?, note? }`). The token (or the open loopback API) is what authorises a decision,
 * as it does a cancel or a retry; a named token's (API_USERS) decision is by its name, and only
 * such a name can decide an approval that lists approvers.
 */
import { Router, type Request, type Response } from "express";
import { z } from "zod";
import { rowToTask } from "../../store/task-store.js";
import { DecisionInputSchema, decide } from "../../tasks/approvals.js";
import type { TaskManager } from "../../tasks/task-manager.js";
import { parseWith } from "../../validation.js";
import { callerOf } from "../auth.js";
import { taskToJson } from "../task-json.js";
import { badRequest, route } from "./route.js";

const ListQuerySchema = z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(50) });

export function approvalRoutes(manager: TaskManager): Router {
  const router = Router();

  router.get("/api/approvals", route(async (req: Request, res: Response) => {
    const query = parseWith(ListQuerySchema, req.query);
    if (!query.ok) return badRequest(res, "query", query.errors);
    const rows = await manager.store.askedApprovals(query.value.limit);
    res.json({ approvals: rows.map((row) => taskToJson(rowToTask(row))) });
  }));

  for (const [verb, approved] of [["approve", true], ["reject", false]] as const) {
    router.post(`/api/tasks/:id/${verb}`, route(async (req: Request, res: Response) => {
      const input = parseWith(DecisionInputSchema, req.body ?? {});
      if (!input.ok) return badRequest(res, `${verb} request`, input.errors);
      const caller = callerOf(res);
      if (caller !== undefined && input.value.by !== undefined && input.value.by !== caller) {
        return badRequest(res, `${verb} request`, [{ field: "by", message: `is the name of this request's token (${caller}); leave it out or give that name`, value: JSON.stringify(input.value.by) }]);
      }
      const by = caller ?? input.value.by ?? "api";
      const outcome = await decide(manager, String(req.params.id), { approved, by, approver: caller, ...(input.value.note !== undefined ? { note: input.value.note } : {}) });
      if ("task" in outcome) return res.json({ task: taskToJson(outcome.task) });
      res.status(outcome.status).json({ error: outcome.error, message: outcome.message });
    }));
  }
  return router;
}
