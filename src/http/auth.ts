/**
 * Bearer-token auth. With API_TOKEN set, every endpoint but /healthz (and the signed inbound hooks)
 * needs `Authorization: Bearer <token>`:
 * - API_TOKEN may do everything;
 * - API_READ_TOKEN (optional) may only read: GET and HEAD — the dashboard, `ph-tasks list / show /
 *   logs`, the live streams, /metrics. Anything else answers 403 naming the token it needs, and
 *   changes nothing. For a wall screen, a Prometheus scraper, or a colleague who watches: whoever
 *   holds API_TOKEN can run commands on this machine.
 * - API_USERS' tokens (optional) may do everything, each known by its name: who decides an approval
 *   (its `by`; and one that names approvers takes a decision from those names only).
 * - API_READERS' tokens (optional) may only read, as API_READ_TOKEN, each known by its name: a
 *   change one asks for is refused naming it (and the audit log says whose), and each is revoked alone.
 * Tokens are compared in constant time (as digests, so their lengths do not show either).
 * Without API_TOKEN (loopback only, see listen) everyone may do everything.
 */
import { timingSafeEqual, createHash } from "node:crypto";
import type { RequestHandler, Response } from "express";

/** What a request's token allows: everything, or reading. */
export type Access = "full" | "read";

const digest = (text: string) => createHash("sha256").update(text).digest();
const READ_METHODS = new Set(["GET", "HEAD"]);

/** A named token (API_USERS, API_READERS). */
export interface NamedToken {
  name: string;
  token: string;
}

export function requireToken(tokens: { full?: string | undefined; read?: string | undefined; users?: readonly NamedToken[]; readers?: readonly NamedToken[] }): RequestHandler {
  if (!tokens.full) {
    return (_req, res, next) => {
      res.locals.access = "full" satisfies Access;
      next();
    };
  }
  const full = digest(tokens.full);
  const read = tokens.read ? digest(tokens.read) : undefined;
  const named = (list: readonly NamedToken[] | undefined) => (list ?? []).map((user) => ({ name: user.name, digest: digest(user.token) }));
  const users = named(tokens.users);
  const readers = named(tokens.readers);
  return (req, res, next) => {
    const match = /^Bearer\s+(.+)$/i.exec(req.get("authorization") ?? "");
    const given = match?.[1] ? digest(match[1]) : undefined;
    if (given && timingSafeEqual(given, full)) {
      res.locals.access = "full" satisfies Access;
      return next();
    }
    // Every user's token compared, so the time taken does not tell which one matched.
    const user = given ? users.filter((u) => timingSafeEqual(given, u.digest)).at(0) : undefined;
    if (user) {
      res.locals.access = "full" satisfies Access;
      res.locals.caller = user.name;
      return next();
    }
    const reader = given ? readers.filter((r) => timingSafeEqual(given, r.digest)).at(0) : undefined;
    if (reader) res.locals.caller = reader.name;
    if (reader || (given && read && timingSafeEqual(given, read))) {
      res.locals.access = "read" satisfies Access;
      if (READ_METHODS.has(req.method)) return next();
      const which = reader ? `API_READERS: ${reader.name}` : "API_READ_TOKEN";
      return res.status(403).json({ error: "forbidden", message: `this token may only read (${which}): ${req.method} ${req.path} needs API_TOKEN or a token of API_USERS` });
    }
    res.status(401).set("WWW-Authenticate", 'Bearer realm="ph-tasks"').json({ error: "unauthorized", message: "missing or wrong bearer token (Authorization: Bearer <API_TOKEN>)" });
  };
}

/** What the request that `res` answers may do (set by requireToken). */
export function accessOf(res: Response): Access {
  return res.locals.access === "read" ? "read" : "full";
}

/** The name of whoever made the request, when their token is a named one (API_USERS, or API_READERS: reading only). */
export function callerOf(res: Response): string | undefined {
  return typeof res.locals.caller === "string" ? res.locals.caller : undefined;
}

/**
 * Who asked, as the audit log and a budget's "set by" say it: a named token's name, API_TOKEN or
 * API_READ_TOKEN, "loopback" without a token required (`tokenRequired` false), or no one known for
 * a request refused before its token was looked at.
 */
export function actorOf(res: Response, tokenRequired: boolean): string {
  // Refused before the token was looked at (another site's page, another local user): no one known.
  if (res.locals.access === undefined) return "refused before authentication";
  const name = callerOf(res);
  if (name !== undefined) return name;
  if (!tokenRequired) return "loopback";
  return accessOf(res) === "read" ? "API_READ_TOKEN" : "API_TOKEN";
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|::ffff:127\.\d+\.\d+\.\d+)$/;
export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}
