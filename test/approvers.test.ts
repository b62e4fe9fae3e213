/**
 * Who decides an approval (session 23). People are known by name through what they hold: a named
 * API token (API_USERS) or a named app key (TASK_AUTHORIZED_WRITERS=alice=did:key:…, its signature
 * verified). A decision made with one is by that name, whatever the request says; an approval that
 * lists `approvers` is decided only by one of them — an unnamed token, another name, an unsigned
 * or unnamed key's APPROVE are refused saying who may, and the task still waits. An approval naming
 * someone the agent cannot tell is refused when asked for. On PGlite and PostgreSQL (the SQL that
 * records a decision checks the name), and on the whole agent with a real reactor and real keys.
 */
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startAgent, type Agent } from "../src/agent.js";
import { loadConfig } from "../src/config.js";
import { createApp, listen } from "../src/http/server.js";
import { createLogger, silentLogger } from "../src/logger.js";
import { TaskStore } from "../src/store/task-store.js";
import { addTaskDocument, dispatch, getTaskDocumentState } from "../src/reactor/documents.js";
import { actions } from "../src/reactor/task-document/actions.js";
import { ApprovalExecutor } from "../src/tasks/executors/approval-executor.js";
import { ValidationError } from "../src/validation.js";
import { appKey, type AppKey } from "./support/app-keys.js";
import { cliRegistry, testManager } from "./support/manager.js";
import { configErrors } from "./support/config-errors.js";
import { waitFor } from "./support/process.js";
import { BACKENDS } from "./support/stores.js";
import { documentReaches } from "./support/task-documents.js";
import { workerPerTest } from "./support/worker-per-test.js";

const ADMIN = "admin-token-0123456789";
const ALICE = "alice-token-0123456789";
const BOB = "bob-token-0123456789ab";
/** Alice's second token: a name may hold several (to rotate one). */
const ALICE_NEW = "alice-new-token-0123456789";
const USERS = [{ name: "alice", token: ALICE }, { name: "bob", token: BOB }, { name: "alice", token: ALICE_NEW }];

interface Answer {
  status: number;
  body: { task?: { id: string; status: string; decision?: { by: string } }; pipeline?: unknown; error?: string; message?: string; errors?: { field: string; message: string }[]; access?: string; name?: string };
}

function caller(url: string, token: string) {
  return async (method: string, route: string, body?: unknown): Promise<Answer> => {
    const res = await fetch(`${url}${route}`, { method, headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, body: (await res.json()) as Answer["body"] };
  };
}

describe("API_USERS and named TASK_AUTHORIZED_WRITERS keys", () => {
  const errorOf = configErrors;

  it("are read as name=token / name=key, and a bad entry is refused naming what is wrong, never echoing a token", async () => {
    expect(loadConfig({ API_TOKEN: ADMIN, API_USERS: `alice=${ALICE}, bob=${BOB}, alice=${ALICE_NEW}` }).API_USERS).toEqual(USERS);
    expect(errorOf({ API_TOKEN: ADMIN, API_USERS: ALICE })).toBe("API_USERS: entry 1 must be name=token (e.g. alice=<a token of 16 characters or more>) [(hidden)]");
    expect(errorOf({ API_TOKEN: ADMIN, API_USERS: "alice=short" })).toBe("API_USERS: alice's token must be at least 16 characters [(hidden)]");
    expect(errorOf({ API_TOKEN: ADMIN, API_USERS: `al ice=${ALICE}` })).toBe("API_USERS: 'al ice': a name must be 1 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit [(hidden)]");
    expect(errorOf({ API_TOKEN: ADMIN, API_USERS: `alice=${ALICE},alice=${ALICE}` })).toContain("alice's token is given twice");
    expect(errorOf({ API_TOKEN: ADMIN, API_USERS: `alice=${ALICE},bob=${ALICE}` })).toContain("bob's token is another user's too");
    expect(errorOf({ API_USERS: `alice=${ALICE}` })).toContain("API_USERS: needs API_TOKEN");
    expect(errorOf({ API_TOKEN: ALICE, API_USERS: `alice=${ALICE}` })).toContain("alice: a user's token must differ from API_TOKEN and API_READ_TOKEN");
    expect(errorOf({ API_TOKEN: ADMIN, API_USERS: `alice=${ALICE}` })).toBe("accepted");
    const key = await appKey("alice-app");
    expect(loadConfig({ TASK_AUTHORIZED_WRITERS: `alice=${key.did}` }).TASK_AUTHORIZED_WRITERS).toEqual([`alice=${key.did}`]);
    expect(errorOf({ TASK_AUTHORIZED_WRITERS: `-alice=${key.did}` })).toContain("'-alice': a name must be");
  });
});

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`who decides an approval, over the API, on ${backend.name}`, () => {
    const ctx = workerPerTest(backend, { maxConcurrent: 5, maxPerDocument: 10, maxPerDrive: 10, pollIntervalMs: 200 }, () => cliRegistry().register(new ApprovalExecutor(["alice", "bob", "carol"])));
    let server: Server;
    let url = "";
    beforeEach(async () => {
      ({ server, url } = await listen(createApp({ manager: ctx.manager, metrics: ctx.manager.metrics!, logger: silentLogger(), apiToken: ADMIN, users: USERS }), "127.0.0.1", 0, undefined));
    });
    afterEach(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });
    const enqueue = async (request: Record<string, unknown>) => (await ctx.manager.enqueueTask(request)).task.id;
    const completed = (id: string) => waitFor(async () => { const t = await ctx.manager.getTask(id); return t?.status === "completed" ? t : undefined; }, 15_000, `task ${id} to complete`);

    it("a named token decides in its own name; an approval listing approvers is decided only by one of them", async () => {
      const admin = caller(url, ADMIN);
      const alice = caller(url, ALICE);
      const bob = caller(url, BOB);
      expect((await alice("GET", "/api/access")).body).toEqual({ access: "full", name: "alice" });
      expect((await admin("GET", "/api/access")).body).toEqual({ access: "full" });

      const gate = await enqueue({ type: "approval", title: "ship 10?", approvers: ["alice"] });
      expect(await admin("POST", `/api/tasks/${gate}/approve`, { by: "alice" })).toMatchObject({
        status: 403,
        body: { error: "not_an_approver", message: `task ${gate} may be decided only by alice: this decision names no one it can prove (use a token of API_USERS, or sign with a named key of TASK_AUTHORIZED_WRITERS)` },
      });
      expect(await bob("POST", `/api/tasks/${gate}/reject`, {})).toMatchObject({ status: 403, body: { error: "not_an_approver", message: `task ${gate} may be decided only by alice: bob is not one of them` } });
      const posing = await alice("POST", `/api/tasks/${gate}/approve`, { by: "mallory" });
      expect(posing.status).toBe(400);
      expect(posing.body.errors).toEqual([expect.objectContaining({ field: "by", message: "is the name of this request's token (alice); leave it out or give that name" })]);
      expect((await ctx.manager.getTask(gate))?.status).toBe("pending"); // none of those decided it
      expect(await alice("POST", `/api/tasks/${gate}/approve`, { note: "ok" })).toMatchObject({ status: 200, body: { task: { decision: { by: "alice" } } } });
      expect((await completed(gate)).result).toMatchObject({ approved: true, by: "alice", note: "ok" });

      // Without approvers anyone may; a named token is still who decided, the admin token says who it likes.
      const open = await enqueue({ type: "approval", title: "rotate keys?" });
      expect(await bob("POST", `/api/tasks/${open}/approve`, { by: "bob" })).toMatchObject({ status: 200, body: { task: { decision: { by: "bob" } } } });
      const other = await enqueue({ type: "approval", title: "clean up?" });
      expect(await admin("POST", `/api/tasks/${other}/reject`, { by: "dave" })).toMatchObject({ status: 200, body: { task: { decision: { by: "dave" } } } });
    });

    it("an approval that needs two of three: one approval is counted and it waits; the same person twice is refused; the second decides it; one rejection rejects it", async () => {
      const alice = caller(url, ALICE);
      const bob = caller(url, BOB);
      const gate = await enqueue({ type: "approval", title: "two of three", approvers: ["alice", "bob", "carol"], required: 2 });
      const first = await alice("POST", `/api/tasks/${gate}/approve`, { note: "looks fine" });
      expect(first.status).toBe(200);
      expect(first.body.task).toMatchObject({ status: "pending", approvals: [{ by: "alice", note: "looks fine" }] });
      expect(first.body.task?.decision).toBeUndefined();
      expect(await alice("POST", `/api/tasks/${gate}/approve`, {})).toMatchObject({ status: 409, body: { error: "already_counted", message: `alice approved task ${gate} already (1 of 2); it waits for bob, carol` } });
      // Her other token is still alice: one person, however many tokens she holds.
      const aliceNew = caller(url, ALICE_NEW);
      expect((await aliceNew("GET", "/api/access")).body).toEqual({ access: "full", name: "alice" });
      expect(await aliceNew("POST", `/api/tasks/${gate}/approve`, {})).toMatchObject({ status: 409, body: { error: "already_counted" } });
      await new Promise((resolve) => setTimeout(resolve, 600)); // three polls of the started worker
      expect((await ctx.manager.getTask(gate))?.status).toBe("pending"); // one approval runs nothing
      expect(await bob("POST", `/api/tasks/${gate}/approve`, { note: "ok" })).toMatchObject({ status: 200, body: { task: { decision: { approved: true, by: "alice, bob", note: "ok" } } } });
      expect((await completed(gate)).result).toMatchObject({ approved: true, by: "alice, bob", approvals: [{ by: "alice" }, { by: "bob" }] });

      const vetoed = await enqueue({ type: "approval", title: "vetoed", approvers: ["alice", "bob", "carol"], required: 2 });
      await alice("POST", `/api/tasks/${vetoed}/approve`, {});
      expect(await bob("POST", `/api/tasks/${vetoed}/reject`, { note: "no" })).toMatchObject({ status: 200, body: { task: { decision: { approved: false, by: "bob" } } } });
      const failed = await waitFor(async () => { const t = await ctx.manager.getTask(vetoed); return t?.status === "failed" ? t : undefined; }, 15_000, "the rejection");
      expect(failed.error).toMatchObject({ code: "rejected", message: "rejected by bob: no" });
      // Retried, it is asked again from nothing: the approvals counted before go with the decision.
      expect(await ctx.manager.retryTask(vetoed)).toBeTruthy();
      expect((await ctx.manager.getTask(vetoed)) as { approvals?: unknown; decision?: unknown }).toMatchObject({ status: "pending" });
      expect(((await ctx.manager.getTask(vetoed)) as { approvals?: unknown }).approvals).toBeUndefined();
    });

    it("two approvals at the same instant are both counted (the second reads the first's under its row lock)", async () => {
      const alice = caller(url, ALICE);
      const bob = caller(url, BOB);
      const gates = await Promise.all(Array.from({ length: 5 }, (_, i) => enqueue({ type: "approval", title: `race ${i}`, approvers: ["alice", "bob"], required: 2 })));
      await Promise.all(gates.flatMap((gate) => [alice("POST", `/api/tasks/${gate}/approve`, {}), bob("POST", `/api/tasks/${gate}/approve`, {})]));
      for (const gate of gates) {
        const done = await completed(gate);
        expect(new Set((done.result as { approvals: { by: string }[] }).approvals.map((a) => a.by))).toEqual(new Set(["alice", "bob"]));
      }
    });

    it("needing more approvals than people named is refused when asked for", async () => {
      const refused = async (request: Record<string, unknown>) => ((await ctx.manager.enqueueTask(request).then(() => undefined, (error: unknown) => error)) as ValidationError).errors;
      expect(await refused({ type: "approval", title: "x", approvers: ["alice"], required: 2 })).toEqual([expect.objectContaining({ field: "required", message: "2 approvals need approvers naming at least 2 different people (only a name a token or key proves counts as one person)" })]);
      expect(await refused({ type: "approval", title: "x", approvers: ["alice", "alice"], required: 2 })).toEqual([expect.objectContaining({ field: "required" })]);
      expect(await refused({ type: "approval", title: "x", required: 2 })).toEqual([expect.objectContaining({ field: "required" })]);
    });

    it("a task or pipeline asked for with a named token records who asked (source.by); a request cannot say it itself", async () => {
      const alice = caller(url, ALICE);
      const admin = caller(url, ADMIN);
      const asked = await alice("POST", "/api/tasks", { type: "cli", title: "by alice", command: "true", source: { by: "mallory" } });
      expect(asked.status).toBe(201);
      expect((await ctx.manager.getTask(asked.body.task!.id))?.source?.by).toBe("alice");
      const unnamed = await admin("POST", "/api/tasks", { type: "cli", title: "by no one proven", command: "true", source: { by: "mallory", origin: "rule:x" } });
      expect((await ctx.manager.getTask(unnamed.body.task!.id))?.source?.by).toBeUndefined();
      const res = await alice("POST", "/api/pipelines", { title: "p", steps: [{ name: "a", task: { type: "cli", title: "a", command: "true", source: { by: "mallory" } } }, { name: "b", after: ["a"], task: { type: "cli", title: "b", command: "true" } }] });
      expect(res.status).toBe(201);
      const { steps, by, id } = (res.body as { pipeline?: { id: string; by?: string; steps: { taskId: string }[] } }).pipeline!;
      for (const step of steps) expect((await ctx.manager.getTask(step.taskId))?.source?.by).toBe("alice");
      // The pipeline says so too, and so does ph-tasks pipeline show.
      expect(by).toBe("alice");
      expect(((await admin("GET", `/api/pipelines/${id}`)).body as { pipeline?: { by?: string } }).pipeline?.by).toBe("alice");
      const shown = await new Promise<string>((resolve, reject) => execFile(process.execPath, [path.resolve("bin/ph-tasks.js"), "pipeline", "show", id], { encoding: "utf8", env: { ...process.env, PH_TASKS_URL: url, API_TOKEN: ADMIN } }, (error, stdout) => (error ? reject(new Error(error.message)) : resolve(stdout))));
      expect(shown.split("\n")[0]).toMatch(new RegExp(`^${id}  \\w+  p  \\(asked by alice\\)$`));
      const unproven = await admin("POST", "/api/pipelines", { title: "q", steps: [{ name: "a", task: { type: "cli", title: "a", command: "true" } }] });
      expect((unproven.body as { pipeline?: { by?: string } }).pipeline?.by).toBeUndefined();
    });

    it("an approval naming someone the agent cannot tell, or no one, is refused when asked for", async () => {
      const refusal = await ctx.manager.enqueueTask({ type: "approval", title: "who?", approvers: ["alice", "zed"] }).then(() => undefined, (error: unknown) => error);
      expect(refusal).toBeInstanceOf(ValidationError);
      expect((refusal as ValidationError).errors).toEqual([{ field: "approvers.1", value: '"zed"', message: "is not a name this agent knows (the names it knows: alice, bob, carol): no one could decide it" }]);
      const empty = await ctx.manager.enqueueTask({ type: "approval", title: "who?", approvers: [] }).then(() => undefined, (error: unknown) => error);
      expect((empty as ValidationError).errors).toEqual([expect.objectContaining({ field: "approvers", message: "must name at least one person (or leave approvers out)" })]);
      expect((await ctx.manager.listTasks({ limit: 10, offset: 0 })).tasks).toHaveLength(0); // nothing stored
    });
  });
}

describe("approvals no one the agent knows can decide, told at start", () => {
  it("names each waiting approval whose approvers are no longer known, in a warning at start", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "ph-undecidable-"));
    const store = await TaskStore.open({ dataDir: path.join(dataDir, "store") });
    const manager = testManager(store, {}, cliRegistry().register(new ApprovalExecutor()));
    const stuck = (await manager.enqueueTask({ type: "approval", title: "bob's call", approvers: ["bob"] })).task.id;
    await manager.enqueueTask({ type: "approval", title: "alice's call", approvers: ["alice"] });
    await store.close();
    const lines: string[] = [];
    const logger = createLogger({ level: "warn", destination: { write: (line: string) => void lines.push(line) } });
    const agent = await startAgent(loadConfig({ TASK_DATA_DIR: dataDir, PORT: "0", TASK_SHUTDOWN_GRACE_MS: "100", API_TOKEN: ADMIN, API_USERS: `alice=${ALICE}` }, dataDir), { logger, rules: [] });
    try {
      const warnings = lines.map((line) => (JSON.parse(line) as { msg: string }).msg);
      expect(warnings).toContain(`1 approval no one this agent knows can decide: ${stuck} "bob's call" (waits for bob) — name them again in API_USERS / TASK_AUTHORIZED_WRITERS, or cancel and ask anew`);
    } finally {
      await agent.stop();
    }
  });
});

describe("who decides an approval on its task document, and through the CLI (the whole agent, a real reactor, real keys)", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "ph-approvers-"));
  let agent: Agent;
  let carol: AppKey;
  let mallory: AppKey;
  beforeAll(async () => {
    carol = await appKey("carol-app");
    mallory = await appKey("mallory-app");
    const env = { TASK_DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "silent", TASK_SHUTDOWN_GRACE_MS: "100", API_TOKEN: ADMIN, API_USERS: `alice=${ALICE},bob=${BOB}`, TASK_AUTHORIZED_WRITERS: `carol=${carol.did},${mallory.did}` };
    agent = await startAgent(loadConfig(env, dataDir), { logger: silentLogger(), rules: [] });
  });
  afterAll(async () => {
    await agent.stop();
  });
  const reaches = (id: string, statuses: string[]) => documentReaches(agent.reactor, id, statuses, 20_000);

  it("only a named key's signed APPROVE decides an approval that lists it, in that key's name; an authorised but unnamed key's is refused with a notice", async () => {
    const id = await addTaskDocument(agent.reactor, agent.localDriveId, { spec: { title: "Ship 11?", taskType: "approval", params: { approvers: ["carol", "alice"] } } });
    await dispatch(agent.reactor, id, await carol.sign(id, actions.requestRun({ requestId: "r" })));
    const queued = await reaches(id, ["queued"]);
    const asked = await waitFor(async () => (await getTaskDocumentState(agent.reactor, id)).notices.find((n) => n.message.startsWith("waits for a person's decision")), 10_000, "the notice");
    expect(asked?.message).toMatch(/; only carol, alice may decide it$/);
    await dispatch(agent.reactor, id, await mallory.sign(id, actions.approve({ note: "me" })));
    const refused = await waitFor(async () => (await getTaskDocumentState(agent.reactor, id)).notices.find((n) => n.message.startsWith("approval ignored")), 10_000, "mallory's approval refused");
    expect(refused?.message).toBe(`approval ignored: task ${queued.currentTaskId} may be decided only by carol, alice: this decision names no one it can prove (use a token of API_USERS, or sign with a named key of TASK_AUTHORIZED_WRITERS)`);
    expect((await agent.manager.getTask(queued.currentTaskId!))?.status).toBe("pending");
    await dispatch(agent.reactor, id, await carol.sign(id, actions.approve({ note: "signed" })));
    expect(await reaches(id, ["completed", "failed"])).toMatchObject({ status: "completed", result: { approved: true, by: "carol", note: "signed" } });
    // Asked for by carol's signed request: the task says so.
    expect((await agent.manager.getTask(queued.currentTaskId!))?.source).toMatchObject({ by: "carol", origin: "document" });
  });

  it("through the CLI: submit with --approvers, listed with who may decide, approved with a named token in its name (no --by), another's refused", async () => {
    const cli = (token: string, ...args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, [path.resolve("bin/ph-tasks.js"), ...args], { encoding: "utf8", env: { ...process.env, PH_TASKS_URL: agent.url, API_TOKEN: token } }, (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
      });
    const sent = await cli(ADMIN, "submit", "approval", "ship 12?", "--approvers", "alice, carol");
    expect(sent.code).toBe(0);
    const id = sent.stdout.trim();
    const listed = await waitFor(async () => { const out = (await cli(BOB, "approvals")).stdout; return out.includes(id) ? out : undefined; }, 10_000, "the approvals list");
    expect(listed).toMatch(new RegExp(`^ID\\s+ASKED\\s+QUESTION\\s+MESSAGE\\s+WHO MAY DECIDE\\n[- ]+\\n${id}\\s+\\d+s ago\\s+ship 12\\?\\s+alice,carol\\n`));
    const bob = await cli(BOB, "approve", id);
    expect(bob.code).not.toBe(0);
    expect(bob.stderr).toContain(`task ${id} may be decided only by alice, carol: bob is not one of them`);
    expect(await cli(ALICE, "approve", id, "--note", "fine")).toMatchObject({ code: 0, stdout: `${id} approved by alice\n` });
    const two = (await cli(ADMIN, "submit", "approval", "two of us?", "--approvers", "alice,bob", "--required", "2")).stdout.trim();
    expect(await cli(ALICE, "approve", two)).toMatchObject({ code: 0, stdout: `${two}: approval by alice counted (1 of 2); waits for bob\n` });
    expect((await cli(ADMIN, "submit", "approval", "x", "--required", "two")).stderr).toContain("--required: expected a whole number, got 'two'");
    const mine = (await cli(ALICE, "submit", "approval", "mine?")).stdout.trim();
    expect((await cli(BOB, "show", mine)).stdout).toMatch(/^created: .* by alice \(api\)$/m);
  }, 120_000); // eight CLI runs, each a Node process of its own

  it("POST /api/tasks refuses approvers the agent does not know, naming them and the names it knows", async () => {
    const res = await fetch(`${agent.url}/api/tasks`, { method: "POST", headers: { Authorization: `Bearer ${ADMIN}`, "Content-Type": "application/json" }, body: JSON.stringify({ type: "approval", title: "who?", approvers: ["dave"] }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Answer["body"]).errors).toEqual([expect.objectContaining({ field: "approvers.0", message: "is not a name this agent knows (the names it knows: alice, bob, carol): no one could decide it" })]);
  });
});
