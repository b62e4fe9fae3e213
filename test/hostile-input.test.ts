/**
 * Hostile input: what someone who can reach the API or write a synced document might send, and
 * what a misbehaving process might print. Each is refused with the field named, or run harmlessly;
 * the agent keeps working afterwards. A real agent (reactor, PGlite store, HTTP) and real processes.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAgent, type Agent } from "../src/agent.js";
import { loadConfig } from "../src/config.js";
import { silentLogger } from "../src/logger.js";
import { addTaskDocument, getTaskDocumentState } from "../src/reactor/documents.js";
import { waitFor } from "./support/process.js";

interface ApiTask {
  id: string;
  status: string;
  result?: { stdout?: string };
  error?: { code: string; message: string };
}

describe("hostile input", () => {
  let agent: Agent;
  const post = async (body: string) => {
    const response = await fetch(`${agent.url}/api/tasks`, { method: "POST", headers: { "Content-Type": "application/json" }, body });
    return { status: response.status, body: (await response.json()) as { task?: ApiTask; error?: string; errors?: { field: string; message: string; value?: string }[] } };
  };
  const finished = (id: string) =>
    waitFor(async () => {
      const task = ((await (await fetch(`${agent.url}/api/tasks/${id}`)).json()) as { task: ApiTask }).task;
      return ["completed", "failed", "cancelled"].includes(task.status) ? task : undefined;
    }, 20_000, `task ${id} to finish`);

  beforeAll(async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "ph-hostile-"));
    agent = await startAgent(loadConfig({ TASK_DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "silent", TASK_SHUTDOWN_GRACE_MS: "100" }, dataDir), { logger: silentLogger(), rules: [] });
  });
  afterAll(async () => {
    await agent.stop();
  });

  it("refuses NUL characters in any field, naming it (PostgreSQL could not store them, no program takes them)", async () => {
    for (const [task, field] of [
      [{ type: "cli", title: "x", command: "ec\u0000ho" }, "command"],
      [{ type: "cli", title: "x", command: "echo", args: ["ok", "a\u0000b"] }, "args.1"],
      [{ type: "cli", title: "x", command: "echo", environment: { A: "x\u0000y" } }, "environment.A"],
      [{ type: "cli", title: "x\u0000", command: "echo" }, "title"],
    ] as const) {
      const { status, body } = await post(JSON.stringify(task));
      expect(status).toBe(400);
      expect(body.errors?.map((e) => e.field)).toEqual([field]);
      expect(body.errors?.[0]?.message).toContain("NUL");
    }
  });

  it("refuses NUL in the workflow endpoints, filters and paths: a 400 naming the field, never a 500, nothing stored", async () => {
    const send = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${agent.url}${path}`, { method, headers: { "Content-Type": "application/json" }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      return { status: response.status, body: (await response.json()) as { errors?: { field: string; message: string }[] } };
    };
    const cases: [string, string, unknown, string][] = [
      ["POST", "/api/webhooks", { name: "w", url: "http://example.com/a\u0000b" }, "url"],
      ["POST", "/api/webhooks", { name: "w", url: "http://example.com/", taskType: "cli\u0000" }, "taskType"],
      ["POST", "/api/webhooks", { name: "w", url: "http://example.com/", secret: "0123456789abcdef\u0000" }, "secret"],
      ["POST", "/api/hooks", { name: "h", task: { type: "cli", title: "x", command: "true" }, secret: "0123456789abcdef\u0000" }, "secret"],
      ["PUT", "/api/templates/t", { description: "nul\u0000", task: { type: "cli", title: "x", command: "true" } }, "description"],
      ["POST", "/api/schedules", { name: "s", cron: "@daily", timezone: "UTC\u0000", task: { type: "cli", title: "x", command: "true" } }, "timezone"],
      ["GET", "/api/tasks?type=cli%00", undefined, "query.type"],
      ["GET", "/api/tasks/abc%00def", undefined, "(path)"],
      ["GET", "/api/webhooks/w%00", undefined, "(path)"],
      ["POST", "/api/queue/pause", { types: ["cli"], reason: "nul\u0000" }, "reason"],
      ["POST", "/api/tasks/cancel", { type: "cli\u0000" }, "type"],
      ["POST", "/api/tasks/retry", { driveId: "d\u0000" }, "driveId"],
    ];
    for (const [method, path, body, field] of cases) {
      const answer = await send(method, path, body);
      expect([method, path, answer.status]).toEqual([method, path, 400]);
      expect(answer.body.errors?.map((e) => e.field)).toEqual([field]);
      expect(answer.body.errors?.[0]?.message).toContain("NUL");
    }
    for (const list of ["webhooks", "hooks", "templates", "schedules", "queue/pauses"]) {
      const listed = (await (await fetch(`${agent.url}/api/${list}`)).json()) as Record<string, unknown[]>;
      expect(listed[list.replace("queue/", "")]).toEqual([]);
    }
  });

  it("refuses loader variables, bad bounds and unknown types with the field, the value and what is allowed", async () => {
    const cases: [object, string, string][] = [
      [{ type: "cli", title: "x", command: "echo", environment: { LD_PRELOAD: "/tmp/x.so" } }, "environment.LD_PRELOAD", "LD_PRELOAD"],
      [{ type: "cli", title: "x", command: "echo", timeoutMs: -1 }, "timeoutMs", "-1"],
      [{ type: "cli", title: "x", command: "echo", priority: 1e9 }, "priority", "1000000000"],
      [{ type: "__proto__", title: "x" }, "type", "__proto__"],
    ];
    for (const [task, field, value] of cases) {
      const { status, body } = await post(JSON.stringify(task));
      expect(status).toBe(400);
      const error = body.errors?.find((e) => e.field === field);
      expect(error?.value).toContain(value);
    }
    const big = await post(JSON.stringify({ type: "cli", title: "x", command: "echo", args: ["a".repeat(2_000_000)] }));
    expect(big.status).toBe(413);
    // The bulk filters and the pause: unknown fields, wrong types, out of bounds — never a 500, never "every task".
    const bulk = async (path: string, body: unknown) => {
      const res = await fetch(`${agent.url}${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      return { status: res.status, fields: ((await res.json()) as { errors?: { field: string }[] }).errors?.map((e) => e.field).sort() };
    };
    expect(await bulk("/api/tasks/cancel", { status: "pending", limit: 1e9, where: "1=1" })).toEqual({ status: 400, fields: ["(root)", "limit", "status"] });
    expect(await bulk("/api/tasks/retry", { status: ["completed"], dryRun: "yes" })).toEqual({ status: 400, fields: ["dryRun", "status.0"] });
    expect(await bulk("/api/queue/pause", { types: ["__proto__"], reason: "x".repeat(501) })).toEqual({ status: 400, fields: ["reason", "types.0"] });
  });

  it("does not let __proto__ in a request reach any object's prototype", async () => {
    const { status, body } = await post('{"type":"cli","title":"proto","command":"true","__proto__":{"polluted":true},"constructor":{"prototype":{"alsoPolluted":true}}}');
    expect(status).toBe(201);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).alsoPolluted).toBeUndefined();
    expect((await finished(body.task?.id ?? "")).status).toBe("completed");
  });

  it("answers odd requests to the workers, failures and attempts endpoints with a 400 or 404 naming what is wrong, never a 500", async () => {
    const call = async (method: string, url: string, body?: string) => {
      const response = await fetch(`${agent.url}${url}`, { method, headers: { "Content-Type": "application/json" }, ...(body === undefined ? {} : { body }) });
      return { status: response.status, body: (await response.json()) as { error?: string; errors?: { field: string }[] } };
    };
    expect(await call("GET", "/api/failures?since=1h&since=2h")).toMatchObject({ status: 400, body: { errors: [{ field: "since" }] } });
    expect(await call("GET", "/api/failures?limit=100000")).toMatchObject({ status: 400, body: { errors: [{ field: "limit" }] } });
    // A number that is not one is shown as given, not as the NaN it coerces to.
    expect(await call("GET", "/api/failures?limit=abc")).toMatchObject({ status: 400, body: { errors: [{ field: "limit", value: '"abc"' }] } });
    expect(await call("GET", `/api/failures?type=${encodeURIComponent("' OR 1=1 --")}`)).toMatchObject({ status: 200, body: { failures: [] } });
    expect(await call("POST", `/api/workers/${encodeURIComponent("../etc")}/drain`, "{}")).toMatchObject({ status: 404, body: { error: "not_found" } });
    expect(await call("POST", "/api/workers/x/drain", "[1,2]")).toMatchObject({ status: 400, body: { errors: [{ field: "(root)" }] } });
    expect(await call("POST", "/api/workers/x/drain", JSON.stringify({ reason: "r".repeat(201) }))).toMatchObject({ status: 400, body: { errors: [{ field: "reason" }] } });
    expect(await call("POST", "/api/workers/x/resume", "{")).toMatchObject({ status: 400 });
    expect((await call("GET", `/api/tasks/${encodeURIComponent("' OR 1=1 --")}/attempts`)).status).toBe(404);
  });

  it("keeps a task out of directories outside the allowed roots, and filters are never SQL", async () => {
    // Refused when asked for (admission.test.ts has more; the run checks again: cli-executor.test.ts).
    const { status, body } = await post(JSON.stringify({ type: "cli", title: "escape", command: "cat", args: ["passwd"], workingDirectory: "../../../../../etc" }));
    expect(status).toBe(400);
    expect(body.errors).toEqual([expect.objectContaining({ field: "workingDirectory", value: '"../../../../../etc"' })]);
    const listed = (await (await fetch(`${agent.url}/api/tasks?type=${encodeURIComponent("' OR 1=1 --")}`)).json()) as { tasks: unknown[]; total: number };
    expect(listed).toMatchObject({ tasks: [], total: 0 });
    expect((await fetch(`${agent.url}/api/tasks/${encodeURIComponent("../../etc/passwd")}`)).status).toBe(404);
  });

  it("refuses a pipeline whose step the policy would never run, or that hides a NUL or a prototype key, naming the step's field; nothing stored", async () => {
    const send = async (body: unknown) => {
      const response = await fetch(`${agent.url}/api/pipelines`, { method: "POST", headers: { "Content-Type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });
      return { status: response.status, body: (await response.json()) as { errors?: { field: string; message: string; value?: string }[] } };
    };
    const count = async () => ((await (await fetch(`${agent.url}/api/tasks?limit=1`)).json()) as { total: number }).total;
    const before = await count();
    const ok = { name: "fine", task: { type: "cli", title: "fine", command: "true" } };
    const escape = await send({ title: "x", steps: [ok, { name: "escape", after: ["fine"], task: { type: "cli", title: "escape", command: "cat", args: ["passwd"], workingDirectory: "../../../../../etc" } }] });
    expect(escape.status).toBe(400);
    expect(escape.body.errors).toEqual([expect.objectContaining({ field: "steps.1.task.workingDirectory", value: '"../../../../../etc"' })]);
    const nul = await send({ title: "x", steps: [ok, { name: "nul", task: { type: "cli", title: "x", command: "echo", args: ["a\u0000b"] } }] });
    expect(nul.status).toBe(400);
    expect(nul.body.errors?.map((e) => e.field)).toEqual(["steps.1.task.args.0"]);
    const proto = await send('{"title":"x","steps":[{"name":"a","task":{"type":"cli","title":"a","command":"true","__proto__":{"command":"rm"}}}],"__proto__":{"polluted":true}}');
    expect(proto.status).toBe(400);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const huge = await send({ title: "x", steps: Array.from({ length: 51 }, (_, i) => ({ name: `s${i}`, task: { type: "cli", title: "s", command: "true" } })) });
    expect(huge.status).toBe(400);
    expect(huge.body.errors?.[0]?.field).toBe("steps");
    expect(await count()).toBe(before);
    expect(((await (await fetch(`${agent.url}/api/pipelines`)).json()) as { pipelines: unknown[] }).pipelines).toEqual([]);
  });

  it("records the run of a process that prints NUL bytes, and goes on running tasks", async () => {
    const nul = await post(JSON.stringify({ type: "cli", title: "prints NUL", command: "printf", args: ["a\\000b\\n"] }));
    const done = await finished(nul.body.task?.id ?? "");
    expect(done.status).toBe("completed");
    expect(done.result?.stdout).toBe("a\uFFFDb\n");
    const next = await post(JSON.stringify({ type: "cli", title: "after", command: "echo", args: ["still here"] }));
    expect((await finished(next.body.task?.id ?? "")).result?.stdout).toBe("still here\n");
  });

  it("refuses odd limits and secrets it does not have, from the API and from a document, naming the field; nothing stored", async () => {
    const total = async () => ((await (await fetch(`${agent.url}/api/tasks`)).json()) as { total: number }).total;
    const before = await total();
    for (const [limits, field] of [
      [{ cpuSeconds: "1e9" }, "limits.cpuSeconds"],
      [{ memoryMb: -1 }, "limits.memoryMb"],
      [{ openFiles: 1e12 }, "limits.openFiles"],
      [JSON.parse('{"__proto__":{"cpuSeconds":1}}') as unknown, "limits"],
      [{ pids: 1 }, "limits"],
      ["unlimited", "limits"],
    ] as const) {
      const refused = await post(JSON.stringify({ type: "cli", title: "x", command: "true", limits }));
      expect(refused.status).toBe(400);
      expect(refused.body.errors?.map((e) => e.field)).toContain(field);
    }
    const secret = await post(JSON.stringify({ type: "cli", title: "x", command: "printenv", secrets: ["ANTHROPIC_API_KEY"] }));
    expect(secret.body.errors).toEqual([{ field: "secrets", value: '"ANTHROPIC_API_KEY"', message: "is not a secret of this agent (TASK_SECRETS is empty)" }]);
    expect((await post(JSON.stringify({ type: "cli", title: "x", command: "true", secrets: ["../x"] }))).body.errors?.[0]?.field).toBe("secrets.0");
    expect(await total()).toBe(before);
    const id = await addTaskDocument(agent.reactor, agent.localDriveId, { spec: { title: "Doc secret", taskType: "cli", params: { command: "printenv", secrets: ["API_TOKEN"] } }, requestRun: true });
    const state = await waitFor(async () => {
      const s = await getTaskDocumentState(agent.reactor, id);
      return s.status === "failed" ? s : undefined;
    }, 20_000, "the request to be refused");
    expect(state.error?.message).toBe('secrets: is not a secret of this agent (TASK_SECRETS is empty) (got "API_TOKEN")');
  });

  it("answers a document whose spec holds a NUL on the document itself, naming the field", async () => {
    const id = await addTaskDocument(agent.reactor, agent.localDriveId, { spec: { title: "Doc NUL", taskType: "cli", params: { command: "echo", args: ["a\u0000b"] } }, requestRun: true });
    const state = await waitFor(async () => {
      const s = await getTaskDocumentState(agent.reactor, id);
      return s.status === "failed" ? s : undefined;
    }, 20_000, "the request to be refused");
    expect(state.error?.code).toBe("invalid_task");
    expect(state.error?.message).toContain("args.0");
  });
});
