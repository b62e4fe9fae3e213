/**
 * No NUL character gets past the HTTP boundary: PostgreSQL (and PGlite) store none in text or
 * JSON, so a name, a URL or a filter holding one would fail deep in the store as a 500. Every JSON
 * body, query value and path is checked here and refused as a 400 naming the field.
 */
import type { NextFunction, Request, Response } from "express";
import { nulFields } from "../tasks/task-request.js";
import { badRequest } from "./routes/route.js";

export function refuseNul(req: Request, res: Response, next: NextFunction): void {
  let path = req.path;
  try {
    path = decodeURIComponent(req.path);
  } catch {
    // a malformed escape is the route's to answer (as a 404 or a 400)
  }
  const errors = [
    ...(path.includes("\u0000") ? [{ field: "(path)", message: "must not contain a NUL character (\\u0000)" }] : []),
    ...nulFields(req.query, ["query"]),
    ...nulFields(req.body),
  ];
  if (errors.length > 0) return badRequest(res, "request", errors);
  next();
}
