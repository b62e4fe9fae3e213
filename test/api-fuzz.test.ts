/**
 * Every route of a real agent's HTTP API (read from the app itself, so a new route is covered
 * without listing it here) fed generated requests: odd path parameters, query strings with known
 * and unknown keys, nested and repeated values, JSON bodies of any shape and bodies that are not
 * JSON. A bad request is the client's error (4xx), never the agent's (5xx), and the agent goes on
 * answering. fast-check shrinks a failure to the smallest request that shows it.
 */
import type { RequestListener } from "node:http";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAgent, type Agent } from "../src/agent.js";
import { loadConfig } from "../src/config.js";
import { silentLogger } from "../src/logger.js";

/** Generated requests per route (FUZZ_RUNS to try more). */
const RUNS = Number(process.env.FUZZ_RUNS ?? 25);

interface RouteInfo {
  method: string;
  path: string;
}

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** The routes of an Express 4 app, nested routers included. */
function routesOf(app: { _router?: { stack: Layer[] } }): RouteInfo[] {
  const found: RouteInfo[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const p of paths) for (const method of Object.keys(layer.route.methods)) if (method !== "_all") found.push({ method: method.toUpperCase(), path: p });
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack);
      }
    }
  };
  walk(app._router?.stack ?? []);
  return found;
}

/** Keys the routes read, and some they do not. */
const QUERY_KEYS = ["status", "type", "limit", "offset", "since", "until", "q", "tag", "documentId", "driveId", "cursor", "after", "before", "all", "format", "name", "id", "taskId", "worker", "state", "order", "__proto__", "constructor", "x"];

const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom("", "0", "-1", "1e309", "NaN", "true", "null", "[]", "{}", "2026-13-45T99:99:99Z", "9".repeat(40), "..", "../..", "%", "a%2Fb", "ünï", "😀", "<script>", "' OR 1=1 --"),
);
const queryValue = fc.oneof(text, fc.array(text, { maxLength: 3 }));
const query = fc.dictionary(fc.oneof(fc.constantFrom(...QUERY_KEYS), fc.constantFrom("a[b]", "status[]", "limit[$gt]"), fc.string({ maxLength: 6 })), queryValue, { maxKeys: 4 });

/** Fields the request bodies take, so generated bodies come near valid ones, not only far. */
const BODY_KEYS = ["type", "title", "command", "args", "priority", "params", "prompt", "cron", "name", "url", "events", "secret", "template", "enabled", "rateLimit", "graceMs", "rotateSecret", "status", "ids", "filter", "reason", "limit", "perMinute", "max", "paused", "tags", "runAt", "dependsOn", "timeoutMs", "maxAttempts", "steps", "after", "task", "onFailure", "idempotencyKey", "__proto__"];
const jsonValue = fc.jsonValue({ maxDepth: 2 });
const body = fc.oneof(
  jsonValue,
  fc.dictionary(fc.constantFrom(...BODY_KEYS), fc.oneof(jsonValue, text), { maxKeys: 5 }),
  fc.record({ type: fc.constantFrom("cli", "claude-code", "claude-agent", "nope"), title: text, command: fc.constantFrom("true", "sh", ""), args: fc.array(text, { maxLength: 2 }) }, { requiredKeys: [] }),
);
/** Sent as the body's bytes: JSON, or something that is not. */
const rawBody = fc.oneof(
  body.map((value) => JSON.stringify(value) ?? "null"),
  fc.constantFrom("", "{", "[1,", '{"a":', "not json", "\u0000", "null", '"just a string"', "1e999"),
);

function fillPath(template: string, values: readonly string[]): string {
  let i = 0;
  return template.replace(/:(\w+)\??/g, () => encodeURIComponent(values[i++ % values.length] ?? "x"));
}

function encodeQuery(q: Record<string, string | string[]>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(q)) for (const v of Array.isArray(value) ? value : [value]) parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(v)}`);
  return parts.length > 0 ? `?${parts.join("&")}` : "";
}

describe("HTTP API under generated requests", () => {
  let agent: Agent;
  let routes: RouteInfo[];

  beforeAll(async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "ph-fuzz-"));
    // Only `true` may run: a generated body that happens to be a valid CLI task runs nothing else.
    agent = await startAgent(loadConfig({ TASK_DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "silent", TASK_SHUTDOWN_GRACE_MS: "100", TASK_COMMAND_ALLOWLIST: "true" }, dataDir), { logger: silentLogger(), rules: [] });
    const app = agent.server.listeners("request")[0] as RequestListener & { _router?: { stack: Layer[] } };
    routes = routesOf(app);
  });
  afterAll(async () => {
    await agent.stop();
  });

  it("reads the routes from the app: the task, workflow, queue and worker endpoints are all there", () => {
    const names = routes.map((r) => `${r.method} ${r.path}`);
    for (const expected of ["GET /api/tasks", "POST /api/tasks", "GET /api/tasks/:id", "POST /api/hooks", "POST /api/webhooks", "POST /api/schedules", "GET /api/workers"]) expect(names).toContain(expected);
    expect(routes.length).toBeGreaterThan(40);
  });

  it("answers every generated request to every route with less than 500, and keeps answering", async () => {
    const seen = new Map<string, Set<number>>();
    for (const route of routes) {
      await fc.assert(
        fc.asyncProperty(fc.array(text, { minLength: 1, maxLength: 3 }), query, rawBody, async (params, q, raw) => {
          const url = `${agent.url}${fillPath(route.path, params)}${encodeQuery(q)}`;
          const hasBody = route.method !== "GET" && route.method !== "HEAD";
          const response = await fetch(url, { method: route.method, headers: { "Content-Type": "application/json" }, ...(hasBody ? { body: raw } : {}) });
          await response.arrayBuffer();
          const key = `${route.method} ${route.path}`;
          seen.set(key, (seen.get(key) ?? new Set()).add(response.status));
          if (response.status >= 500) throw new Error(`${route.method} ${url} with body ${JSON.stringify(raw)} answered ${response.status}`);
        }),
        { numRuns: RUNS, endOnFailure: true },
      );
    }
    if (process.env.FUZZ_REPORT) console.log([...seen].map(([k, v]) => `${k}: ${[...v].sort().join(",")}`).join("\n"));
    const health = await fetch(`${agent.url}/healthz`);
    expect(health.status).toBe(200);
    // Not only refusals: generated requests also reached routes that answer 2xx.
    expect([...seen.values()].some((statuses) => [...statuses].some((s) => s >= 200 && s < 300))).toBe(true);
  }, 600_000);

  it("answers generated calls of every reactor-mcp tool at /mcp with a result or a tool error, never a 5xx, and keeps answering", async () => {
    const mcp = async (message: unknown) => {
      const response = await fetch(`${agent.url}/mcp`, { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream" }, body: JSON.stringify(message), signal: AbortSignal.timeout(15_000) });
      const reply = await response.text();
      return { status: response.status, reply };
    };
    const listed = await mcp({ jsonrpc: "2.0", id: 0, method: "tools/list" });
    const tools = [...listed.reply.matchAll(/"name":"(\w+)","description"/g)].map((m) => m[1] ?? "");
    expect(tools).toEqual(expect.arrayContaining(["getDocument", "createDocument", "addActions", "getDrive", "deleteDrive"]));
    // addRemoteDrive would try to reach the generated URL (no network here); the rest get anything.
    const callable = tools.filter((name) => name !== "addRemoteDrive");
    const argKeys = ["id", "documentType", "documentId", "parentId", "actions", "driveInput", "driveId", "options", "type", "name", "input", "scope"];
    const argText = fc.oneof(text, fc.constantFrom(agent.localDriveId, "powerhouse/document-drive", "powerhouse/task"));
    const action = fc.dictionary(fc.constantFrom("type", "input", "scope", "id"), fc.oneof(argText, jsonValue), { maxKeys: 4 });
    const argValue = fc.oneof(argText, jsonValue, fc.array(action, { maxLength: 3 }));
    let id = 1;
    const outcomes = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...callable), fc.dictionary(fc.constantFrom(...argKeys), argValue, { maxKeys: 4 }), async (name, args) => {
        const { status, reply } = await mcp({ jsonrpc: "2.0", id: id++, method: "tools/call", params: { name, arguments: args } });
        if (status >= 500) throw new Error(`tools/call ${name} ${JSON.stringify(args)} answered ${status}: ${reply.slice(0, 300)}`);
        outcomes.add(/"isError":true/.test(reply) ? "tool error" : /"error":/.test(reply) ? "protocol error" : "result");
      }),
      { numRuns: RUNS * 8, endOnFailure: true },
    );
    expect(outcomes).toContain("tool error");
    expect(outcomes).toContain("result");
    expect((await fetch(`${agent.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${agent.url}/api/tasks`)).status).toBe(200);
  }, 600_000);
});
