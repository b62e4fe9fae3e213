/**
 * The audit log (migration 037, src/audit/): who asked for which change, when, and how it ended.
 * On the whole agent (a real reactor, real keys, real HTTP): API requests that are not reads, by a
 * named token, API_TOKEN and the read-only token (refused, recorded); a wrong token and reads are
 * not recorded; an accepted signed hook delivery is, a badly signed one is not; a signed run
 * request, an unsigned cancel (refused) and a named key's approval on task documents are, with
 * who wrote them. Read back filtered by actor and time, paged, by the read-only token and the CLI;
 * a bad query is refused naming the field. The retention removes old entries only, on PGlite and
 * PostgreSQL.
 */
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAgent, type Agent } from "../src/agent.js";
import { loadConfig } from "../src/config.js";
import { signBody } from "../src/hooks/hook-receiver.js";
import { silentLogger } from "../src/logger.js";
import { addTaskDocument, dispatch } from "../src/reactor/documents.js";
import { actions } from "../src/reactor/task-document/actions.js";
import { AuditStore } from "../src/store/audit-store.js";
import { appKey, type AppKey } from "./support/app-keys.js";
import { waitFor } from "./support/process.js";
import { BACKENDS } from "./support/stores.js";
import { documentReaches } from "./support/task-documents.js";

const ADMIN = "audit-admin-token-0123456789";
const READER = "audit-read-token-0123456789";
const ALICE = "audit-alice-token-0123456789";

interface Entry {
  id: string;
  at: string;
  actor: string;
  via: string;
  action: string;
  outcome: string;
  detail: string | null;
}

describe("the audit log on the whole agent", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "ph-audit-"));
  let agent: Agent;
  let carol: AppKey;
  beforeAll(async () => {
    carol = await appKey("carol-app");
    const env = { TASK_DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "silent", TASK_SHUTDOWN_GRACE_MS: "100", API_TOKEN: ADMIN, API_READ_TOKEN: READER, API_USERS: `alice=${ALICE}`, TASK_AUTHORIZED_WRITERS: `carol=${carol.did}` };
    agent = await startAgent(loadConfig(env, dataDir), { logger: silentLogger(), rules: [] });
  });
  afterAll(async () => {
    await agent.stop();
  });
  const call = async (token: string, method: string, route: string, body?: unknown) => {
    const res = await fetch(`${agent.url}${route}`, { method, headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { "Content-Type": "application/json" } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const audit = async (query = "", token = ADMIN) => (await call(token, "GET", `/api/audit${query}`)).body as { entries: Entry[]; next: string | null; errors?: unknown };

  it("records who asked for which change through the API, a hook and task documents, and how it ended; not reads, nor what no valid token or signature backs", async () => {
    const created = await call(ALICE, "POST", "/api/tasks", { type: "cli", title: "audited", command: "sleep", args: ["5"] });
    expect(created.status).toBe(201);
    const taskId = (created.body.task as { id: string }).id;
    expect((await call(ADMIN, "POST", `/api/tasks/${taskId}/cancel`)).status).toBe(202);
    expect((await call(READER, "POST", "/api/queue/pause", {})).status).toBe(403);
    expect((await call("not-the-token-0123456789", "POST", "/api/queue/pause", {})).status).toBe(401);
    expect((await call(ALICE, "GET", "/api/tasks")).status).toBe(200);

    const hook = (await call(ADMIN, "POST", "/api/hooks", { name: "builds", task: { type: "cli", title: "build", command: "true" } })).body.hook as { secret: string };
    const body = JSON.stringify({ ref: "main" });
    expect((await fetch(`${agent.url}/hooks/builds`, { method: "POST", headers: { "Content-Type": "application/json", "X-Signature-256": signBody(hook.secret, body) }, body })).status).toBe(202);
    expect((await fetch(`${agent.url}/hooks/builds`, { method: "POST", headers: { "Content-Type": "application/json", "X-Signature-256": signBody("wrong", body) }, body })).status).toBe(401);

    const docId = await addTaskDocument(agent.reactor, agent.localDriveId, { spec: { title: "From a document", taskType: "cli", params: { command: "sleep", args: ["5"] } } });
    await dispatch(agent.reactor, docId, await carol.sign(docId, actions.requestRun({ requestId: "r" })));
    const running = await documentReaches(agent.reactor, docId, ["queued", "running"]);
    await dispatch(agent.reactor, docId, actions.cancel({ reason: "unsigned" }));
    const gate = await addTaskDocument(agent.reactor, agent.localDriveId, { spec: { title: "Ship?", taskType: "approval", params: { approvers: ["carol"] } } });
    await dispatch(agent.reactor, gate, await carol.sign(gate, actions.requestRun({ requestId: "g" })));
    await documentReaches(agent.reactor, gate, ["queued"]);
    await dispatch(agent.reactor, gate, await carol.sign(gate, actions.approve({ note: "go" })));
    await documentReaches(agent.reactor, gate, ["completed"]);

    const { entries } = await waitFor(async () => { const page = await audit(); return page.entries.length >= 9 ? page : undefined; }, 10_000, "the entries");
    const seen = entries.map((e) => [e.actor, e.via, e.action, e.outcome]).reverse();
    const hookCreate = seen.findIndex(([, , action]) => action === "POST /api/hooks");
    expect(seen.slice(0, hookCreate + 2)).toEqual([
      ["alice", "api", "POST /api/tasks", "201"],
      ["API_TOKEN", "api", `POST /api/tasks/${taskId}/cancel`, "202"],
      ["API_READ_TOKEN", "api", "POST /api/queue/pause", "403"],
      ["API_TOKEN", "api", "POST /api/hooks", "201"],
      ["hook:builds", "hook", "POST /hooks/builds", "202"],
    ]);
    // The documents' entries, in the order the agent handled them.
    const fromDocuments = entries.filter((e) => e.via === "document").reverse();
    expect(fromDocuments.map((e) => [e.actor, e.action, e.outcome])).toEqual([
      ["carol", "REQUEST_RUN", "done"],
      ["an unsigned writer", "CANCEL", "refused"],
      ["carol", "REQUEST_RUN", "done"],
      ["carol", "APPROVE", "done"],
    ]);
    expect(fromDocuments[0]?.detail).toBe(`document ${docId}: task ${running.currentTaskId}`);
    expect(fromDocuments[1]?.detail).toMatch(new RegExp(`^document ${docId}: CANCEL is not signed`));
    expect(entries).toHaveLength(9); // nothing else: not the reads, the wrong token, the bad signature
    await dispatch(agent.reactor, docId, await carol.sign(docId, actions.cancel({ reason: "done testing" })));
  });

  it("reads it back filtered by actor and time, a page at a time, with the read-only token and the CLI; refuses a bad query naming the field", async () => {
    const alices = await audit("?actor=alice", READER);
    expect(alices.entries.map((e) => e.action)).toEqual(["POST /api/tasks"]);
    expect((await audit(`?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).entries).toEqual([]);
    const first = await audit("?limit=2");
    expect(first.entries).toHaveLength(2);
    expect(first.next).toBe(first.entries[1]?.id);
    const second = await audit(`?limit=2&before=${first.next}`);
    expect(second.entries.map((e) => Number(e.id)).every((id) => id < Number(first.next))).toBe(true);
    const bad = await call(ADMIN, "GET", "/api/audit?before=abc&limit=0");
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([
      expect.objectContaining({ field: "before", message: "must be an entry's id (a whole number)" }),
      expect.objectContaining({ field: "limit" }),
    ]);
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [path.resolve("bin/ph-tasks.js"), "audit", "--actor", "alice"], { encoding: "utf8", env: { ...process.env, PH_TASKS_URL: agent.url, API_TOKEN: READER } }, (error, stdout) => (error ? reject(new Error(error.message)) : resolve(stdout))),
    );
    expect(out).toMatch(/^ID\s+WHEN\s+WHO\s+VIA\s+WHAT\s+OUTCOME\s+DETAIL\n[- ]+\n\d+\s+\d+s ago\s+alice\s+api\s+POST \/api\/tasks\s+201\s*\n$/);
  });
});

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`the audit log's retention on ${backend.name}`, () => {
    it("removes the entries older than the retention and keeps the rest", async () => {
      const { store, cleanup } = await backend.open();
      try {
        const audit = new AuditStore(store.db);
        const entry = (action: string, agoMs: number) => ({ actor: "alice", via: "api" as const, action, outcome: "200", at: new Date(Date.now() - agoMs) });
        await audit.append("w1", [entry("old", 2 * 3_600_000), entry("recent", 60_000), entry("older", 3 * 3_600_000)]);
        expect(await audit.deleteOlderThan(3_600_000)).toBe(2);
        expect((await audit.list({ limit: 10 })).map((row) => [row.action, row.worker_id])).toEqual([["recent", "w1"]]);
      } finally {
        await cleanup();
      }
    });
  });
}
