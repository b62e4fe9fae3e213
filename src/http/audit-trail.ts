/**
 * Puts each HTTP request that asks for a change (not GET, HEAD, OPTIONS) in the audit log once it
 * is answered: who (a named token's name, "API_TOKEN", "API_READ_TOKEN", "loopback" without a
 * token, "hook:<name>" for a signed inbound delivery), what (method and path), and the status.
 * `remote`: the connection's address, or behind a proxy named in HTTP_TRUSTED_PROXIES the one
 * its X-Forwarded-For names (req.ip). Not recorded: requests refused for want of a valid token or signature (401: anyone may send
 * those, and could fill the log), inbound deliveries not accepted, and /mcp (reactor-mcp's calls,
 * reads among them; the documents keep their own operation history).
 */
import type { RequestHandler } from "express";
import type { AuditLog } from "../audit/audit-log.js";
import { actorOf } from "./auth.js";

const READS = new Set(["GET", "HEAD", "OPTIONS"]);
const HOOK_PATH = /^\/hooks\/([^/]+)\/?$/;

export function auditTrail(log: AuditLog, options: { apiToken?: string | undefined }): RequestHandler {
  return (req, res, next) => {
    const path = req.path;
    if (READS.has(req.method) || path === "/mcp" || path.startsWith("/mcp/")) return next();
    res.on("finish", () => {
      const hook = HOOK_PATH.exec(path);
      if (hook) {
        if (res.statusCode < 300) log.record({ actor: `hook:${safeDecode(hook[1] ?? "")}`, via: "hook", action: `${req.method} ${path}`, outcome: String(res.statusCode), remote: req.ip ?? req.socket.remoteAddress ?? null });
        return;
      }
      if (res.statusCode === 401) return;
      log.record({ actor: actorOf(res, options.apiToken !== undefined), via: "api", action: `${req.method} ${path}`, outcome: String(res.statusCode), remote: req.ip ?? req.socket.remoteAddress ?? null });
    });
    next();
  };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
