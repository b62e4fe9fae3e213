/**
 * Bearer-token auth: with API_TOKEN set, every endpoint but /healthz needs
 * `Authorization: Bearer <token>`. Compared in constant time.
 */
import { timingSafeEqual, createHash } from "node:crypto";
import type { RequestHandler } from "express";

const digest = (text: string) => createHash("sha256").update(text).digest();

export function requireToken(token: string | undefined): RequestHandler {
  if (!token) return (_req, _res, next) => next();
  const expected = digest(token);
  return (req, res, next) => {
    const header = req.get("authorization") ?? "";
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (match?.[1] && timingSafeEqual(digest(match[1]), expected)) return next();
    res.status(401).set("WWW-Authenticate", 'Bearer realm="ph-tasks"').json({ error: "unauthorized", message: "missing or wrong bearer token (Authorization: Bearer <API_TOKEN>)" });
  };
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|::ffff:127\.\d+\.\d+\.\d+)$/;
export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}
