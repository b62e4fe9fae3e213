/**
 * Without API_TOKEN the API listens on loopback only and trusts whoever reaches it — but a web
 * page in the user's own browser reaches it too:
 * - DNS rebinding: a page of evil.example whose name then resolves to 127.0.0.1 talks to this
 *   agent as its own origin, reads everything and runs commands. Its requests name evil.example
 *   in `Host`, so only loopback names (and HTTP_ALLOWED_HOSTS) are answered.
 * - Cross-site requests: any page may POST a "simple" request (text/plain, no preflight) to
 *   127.0.0.1 — pause the queue, cancel every waiting task, drain workers. The browser says where
 *   it comes from in `Origin` (and `Sec-Fetch-Site`), so a change asked for by another origin is
 *   refused; the dashboard's own requests carry this agent's origin, and the CLI, curl and MCP
 *   clients send none.
 * With API_TOKEN none of this applies: a browser never sends the bearer token by itself, and a
 * reverse proxy may rewrite Host. Signed inbound webhooks (/hooks/...) and /healthz are answered
 * before this (server.ts).
 */
import type { Request, RequestHandler } from "express";
import { isLoopback } from "./auth.js";

const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
/** A browser's own word that the request came from another site (or a page with no origin). */
const FOREIGN_FETCH_SITES = new Set(["cross-site", "same-site"]);

/** The host name of a Host header value, lower-case, without port or IPv6 brackets. */
export function hostNameOf(hostHeader: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hostHeader);
  if (bracketed?.[1]) return bracketed[1].toLowerCase();
  return hostHeader.replace(/:\d+$/, "").toLowerCase();
}

function foreignOrigin(req: Request): string | undefined {
  const origin = req.get("origin");
  const host = req.get("host") ?? "";
  if (origin !== undefined) {
    if (origin === "null") return "null";
    try {
      if (new URL(origin).host.toLowerCase() !== host.toLowerCase()) return origin;
    } catch {
      return origin;
    }
  }
  const site = req.get("sec-fetch-site");
  if (site !== undefined && FOREIGN_FETCH_SITES.has(site)) return origin ?? `a ${site} page`;
  return undefined;
}

export function browserGuard(options: { apiToken?: string | undefined; allowedHosts?: readonly string[] | undefined }): RequestHandler {
  if (options.apiToken) return (_req, _res, next) => next();
  const allowed = new Set((options.allowedHosts ?? []).map((h) => h.toLowerCase()));
  return (req, res, next) => {
    const hostHeader = req.get("host") ?? "";
    const name = hostNameOf(hostHeader);
    if (!isLoopback(name) && !allowed.has(name)) {
      return res.status(403).json({
        error: "forbidden_host",
        message: `Host ${JSON.stringify(hostHeader)} is not a name this agent answers to without API_TOKEN: loopback names only (localhost, 127.0.0.1, [::1]) and those in HTTP_ALLOWED_HOSTS (a page whose name now points at this machine — DNS rebinding — is refused)`,
      });
    }
    if (READ_METHODS.has(req.method)) return next();
    const from = foreignOrigin(req);
    if (from !== undefined) {
      return res.status(403).json({
        error: "forbidden_origin",
        message: `${req.method} ${req.path} from the page at ${from} is refused: without API_TOKEN only this agent's own dashboard (origin http://${hostHeader}) and clients that send no Origin (ph-tasks, curl) may change anything`,
      });
    }
    next();
  };
}
