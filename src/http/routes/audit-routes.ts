/**
 * GET /api/audit — the audit log (src/audit/audit-log.ts), newest first: `since` (ISO or a time
 * ago), `actor` (exactly), `before` (an entry's id: the page after it), `limit`. The read-only
 * token may read it too. Answers `{ entries, next }` (`next`: the `before` of the next page, or null).
 */
import { Router, type Request, type Response } from "express";
import { z } from "zod";
import type { AuditStore } from "../../store/audit-store.js";
import { parseWith } from "../../validation.js";
import { InstantSchema } from "../instant.js";
import { badRequest, route } from "./route.js";

const AuditQuerySchema = z.strictObject({
  since: InstantSchema.optional(),
  actor: z.string().min(1).max(500).optional(),
  before: z.string().regex(/^\d{1,18}$/, "must be an entry's id (a whole number)").optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

export function auditRoutes(store: AuditStore): Router {
  const router = Router();
  router.get("/api/audit", route(async (req: Request, res: Response) => {
    const query = parseWith(AuditQuerySchema, req.query);
    if (!query.ok) return badRequest(res, "query", query.errors);
    const rows = await store.list(query.value);
    const entries = rows.map((row) => ({ id: row.id, at: row.at.toISOString(), actor: row.actor, via: row.via, action: row.action, outcome: row.outcome, detail: row.detail, remote: row.remote, workerId: row.worker_id }));
    res.json({ entries, next: rows.length === query.value.limit ? (rows.at(-1)?.id ?? null) : null });
  }));
  return router;
}
