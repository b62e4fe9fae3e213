/**
 * What a read-only token (API_READ_TOKEN, API_READERS) is shown: the same JSON, but the values of every
 * `environment` — a task's, or a template's, schedule's or hook's task — are "(hidden)". Whoever
 * submits a task may pass a secret to its program that way (`--env DEPLOY_TOKEN=...`); a wall
 * screen or a colleague who watches sees which variables were set, not their values.
 */
import type { RequestHandler } from "express";
import { accessOf } from "./auth.js";

export const HIDDEN = "(hidden)";

export function hideEnvironmentValues(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(hideEnvironmentValues);
  if (value === null || typeof value !== "object" || value instanceof Date) return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([key, inner]) => [
      key,
      key === "environment" && inner !== null && typeof inner === "object" && !Array.isArray(inner)
        ? Object.fromEntries(Object.keys(inner as Record<string, unknown>).map((name) => [name, HIDDEN]))
        : hideEnvironmentValues(inner),
    ]),
  );
}

/** After requireToken: a read-only request's JSON answers go through hideEnvironmentValues. */
export const readOnlyView: RequestHandler = (_req, res, next) => {
  if (accessOf(res) === "read") {
    const json = res.json.bind(res);
    res.json = (body: unknown) => json(hideEnvironmentValues(body));
  }
  next();
};
