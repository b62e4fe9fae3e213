/**
 * Claude agent tasks on real parts: the pinned `claude` binary through the Agent SDK's query(), a
 * document-drive reactor, reactor-mcp mounted behind our bearer-token check on an express server on
 * 127.0.0.1, and the local Messages-API stand-in scripting the model's turns (the only stand-in).
 * Each claude run costs about 0.5 s here: this file starts about twenty of them.
 */
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import express, { type Request } from "express";
import { setupMcpServer } from "@powerhousedao/reactor-mcp";
import type { IDocumentDriveServer } from "document-drive";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startAgent, type Agent } from "../src/agent.js";
import { agentSecrets } from "../src/security/redactor.js";
import { loadConfig } from "../src/config.js";
import { requireToken } from "../src/http/auth.js";
import { createLogger, silentLogger } from "../src/logger.js";
import { ReactorDocumentContext } from "../src/reactor/document-context-provider.js";
import { addTaskDocument, getTaskDocumentState } from "../src/reactor/documents.js";
import { createReactor } from "../src/reactor/reactor-setup.js";
import { ClaudeAgentExecutor, type ClaudeAgentExecutorOptions } from "../src/tasks/executors/claude-agent-executor.js";
import { ClaudeAgentProcess } from "../src/tasks/executors/claude/agent-process.js";
import { TaskAbortReason, type TaskExecutor } from "../src/tasks/executors/executor.js";
import { createDefaultRegistry } from "../src/tasks/executors/index.js";
import { ExecutorRegistry } from "../src/tasks/executors/registry.js";
import { managerSettingsFromConfig } from "../src/tasks/manager-settings.js";
import { executeAttempt } from "../src/tasks/execute-attempt.js";
import { newTask } from "../src/tasks/new-task.js";
import { parseTaskRequest, type TaskRequest } from "../src/tasks/task-request.js";
import { ClaudeAgentTaskRequestSchema, type ProgressEvent } from "../src/tasks/types.js";
import { startStandIn, type LoggedRequest, type StandIn } from "./support/anthropic-stand-in.js";
import { removeTestCgroupRoot, runCgroupsLeft, testCgroupRoot } from "./support/cgroup.js";
import { processAlive, readPid, sleep, waitFor } from "./support/process.js";
import { testRunUser } from "./support/run-user.js";
import { phTasks } from "./support/ph-tasks-cli.js";
import { ensureSharedHomesDir, type RunUser } from "../src/tasks/executors/run-as-user.js";
import { ConversationStore } from "../src/store/conversation-store.js";
import { TaskStore } from "../src/store/task-store.js";

const root = realpathSync(mkdtempSync(path.join(tmpdir(), "ph-claude-agent-")));
const homesDir = path.join(root, ".homes");
const API_TOKEN = "own-mcp-token-0123456789";
const EXTERNAL_TOKEN = "external-mcp-token-9876543210";

/** Live (non-zombie) members of a process group. */
function groupMembers(pgid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] !== "Z" && Number(fields[2]) === pgid) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Live processes whose working directory lies under `dir` (the claude of a run, in its per-run home). */
function processesIn(dir: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/cwd`).startsWith(`${dir}/`) && processAlive(Number(entry))) found.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours
    }
  }
  return found;
}

/** A closed port: connecting to it is refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** An express server with reactor-mcp at /mcp behind a bearer token (as the agent mounts it); records the Authorization headers it got. */
async function mcpServer(reactor: IDocumentDriveServer, token: string): Promise<{ url: string; authorizations: string[]; close(): Promise<void> }> {
  const authorizations: string[] = [];
  const app = express();
  app.use((req: Request, _res, next) => {
    authorizations.push(req.get("authorization") ?? "");
    next();
  });
  app.use(requireToken({ full: token }));
  app.use(express.json({ limit: "1mb" }));
  await setupMcpServer(reactor, app);
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    authorizations,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The text of the tool_result blocks the model got back in a request. */
function toolResults(request: LoggedRequest | undefined): string[] {
  const found: string[] = [];
  for (const message of request?.body.messages ?? []) {
    if (message.role !== "user" || !Array.isArray(message.content)) continue;
    for (const block of message.content as { type?: string; content?: unknown }[]) {
      if (block.type === "tool_result") found.push(typeof block.content === "string" ? block.content : JSON.stringify(block.content));
    }
  }
  return found;
}

describe("Claude agent executor: Agent SDK + reactor-mcp on the real claude binary", () => {
  let standIn: StandIn;
  let reactor: IDocumentDriveServer;
  let driveId: string;
  let own: Awaited<ReturnType<typeof mcpServer>>;
  let external: Awaited<ReturnType<typeof mcpServer>>;

  beforeAll(async () => {
    standIn = await startStandIn();
    ({ reactor, localDriveId: driveId } = await createReactor({ storage: { kind: "memory" }, logger: silentLogger(), logLevel: "silent" }));
    own = await mcpServer(reactor, API_TOKEN);
    external = await mcpServer(reactor, EXTERNAL_TOKEN);
  });
  afterAll(async () => {
    removeTestCgroupRoot();
    await own.close();
    await external.close();
    await standIn.close();
  });
  beforeEach(() => standIn.reset());

  const executor = (overrides: Partial<ClaudeAgentExecutorOptions> = {}) =>
    new ClaudeAgentExecutor({
      credentials: { apiKey: "sk-ant-test-key", baseUrl: standIn.url },
      defaultModel: "claude-sonnet-4-5",
      defaultMaxTurns: 5,
      homesDir,
      killGraceMs: 500,
      requestsPerMinute: 1000,
      ownMcp: () => ({ url: `${own.url}/mcp`, token: API_TOKEN }),
      allowedMcpUrls: [`${external.url}/mcp`],
      mcpCredentials: { external: EXTERNAL_TOKEN },
      documentContext: new ReactorDocumentContext(reactor),
      ...overrides,
    });

  /** Runs one attempt; `request` is already validated (or deliberately not, to test execute's own checks). */
  async function runTask(exec: TaskExecutor, request: TaskRequest, options: RunOptions = {}) {
    const task = newTask(request, exec, { maxAttempts: 1, timeoutMs: options.timeoutMs ?? 60_000 });
    const progress: ProgressEvent[] = [];
    const before = standIn.requests.length;
    const onProgress = (p: ProgressEvent) => {
      progress.push(p);
      options.onProgress?.(p);
    };
    // Kept conversations belong to stored tasks.
    if (options.keep) await options.keep.store.insert([task], 60_000);
    const outcome = await executeAttempt(exec, task, { timeoutMs: task.timeoutMs, attempt: 1, logger: silentLogger(), onProgress, ...(options.signal ? { signal: options.signal } : {}), ...(options.spendCapUsd !== undefined ? { spendCap: { usd: options.spendCapUsd, from: options.spendCapFrom ?? "daily" } } : {}), ...(options.keep ? { conversations: options.keep.conversations } : {}) });
    return { task, outcome, progress, result: (outcome.result ?? {}) as Record<string, unknown>, requests: standIn.requests.slice(before) };
  }

  interface RunOptions {
    exec?: TaskExecutor;
    signal?: AbortSignal;
    timeoutMs?: number;
    onProgress?: (event: ProgressEvent) => void;
    /** What is left of the daily budget as the run starts (ExecutionContext.spendCapUsd). */
    spendCapUsd?: number;
    /** Whose budget that is (ExecutionContext.spendCapFrom). */
    spendCapFrom?: "daily" | "drive";
    /** The task stored there, and its conversation kept for follow-ups (ExecutionContext.conversations). */
    keep?: { store: TaskStore; conversations: ConversationStore };
  }

  async function run(fields: Record<string, unknown>, options: RunOptions = {}) {
    const exec = options.exec ?? executor();
    const request = parseTaskRequest({ type: "claude-agent", title: "Agent test", ...fields }, new ExecutorRegistry().register(exec));
    if (!request.ok) throw new Error(JSON.stringify(request.errors));
    return runTask(exec, request.value, options);
  }

  /** Starts a run whose model request hangs; resolves once claude waits on the stand-in, with its process. */
  async function hangingRun(options: RunOptions = {}) {
    standIn.enqueue({ kind: "hang" });
    const controller = new AbortController();
    const before = standIn.requests.length;
    const pending = run({ prompt: "take your time" }, { signal: controller.signal, ...options });
    await waitFor(() => standIn.requests.length > before || undefined, 30_000, "claude to call the API");
    const [pid, ...others] = processesIn(homesDir);
    expect(others).toEqual([]);
    if (pid === undefined) throw new Error("no claude process under the per-run homes");
    return { pending, controller, pid };
  }

  /** The error of a failed or cancelled outcome. */
  const errorOf = (outcome: Awaited<ReturnType<typeof runTask>>["outcome"]) => (outcome.status === "completed" ? undefined : outcome.error);

  it("edits a document through reactor-mcp: addActions on turn 1, text on turn 2", async () => {
    const target = await addTaskDocument(reactor, driveId, { spec: { title: "Original title" } });
    const longInstructions = `edited over MCP ${"x".repeat(400)}`;
    standIn.enqueue(
      { kind: "tool_use", name: "mcp__powerhouse__addActions", input: { documentId: target, actions: [{ type: "SET_SPEC", input: { title: "Renamed by Claude", instructions: longInstructions }, scope: "global" }] } },
      { kind: "text", text: "Renamed the task document." },
    );
    // A file the prompt mentions with @: passed verbatim, never read into the prompt.
    const mentioned = path.join(root, "mentioned.txt");
    writeFileSync(mentioned, "CONTENT-OF-THE-MENTIONED-FILE\n");
    const authBefore = own.authorizations.length;
    const { outcome, progress, result, requests } = await run({ prompt: `Rename the task document (see @${mentioned})`, source: { documentId: target, driveId } });

    expect(outcome.status).toBe("completed");
    // The reactor's document really changed.
    expect(await getTaskDocumentState(reactor, target)).toMatchObject({ title: "Renamed by Claude", instructions: longInstructions });
    expect(result).toMatchObject({ text: "Renamed the task document.", isError: false, subtype: "success", turns: 2, toolCalls: [{ name: "mcp__powerhouse__addActions", ok: true }], mcpServer: `${own.url}/mcp`, model: "claude-sonnet-4-5", exitCode: 0 });
    expect(Object.keys(result).sort()).toEqual(["costUsd", "durationMs", "exitCode", "isError", "mcpServer", "model", "permissionDenials", "pid", "sessionId", "subtype", "text", "toolCalls", "totalCostUsd", "turns", "usage"]);
    expect(typeof result.sessionId).toBe("string");
    expect(typeof result.costUsd).toBe("number");
    expect(result.totalCostUsd).toBe(result.costUsd);
    expect(result.permissionDenials).toEqual([]);
    expect(result.usage).toMatchObject({ output_tokens: expect.any(Number) as number });
    expect(result.durationMs).toBeGreaterThan(0);
    // Progress: MCP connected, the session, the tool use (input summarised to 300 characters), its result, the text.
    expect(progress.find((p) => p.kind === "mcp")).toMatchObject({ data: { url: `${own.url}/mcp`, source: "own" } });
    expect(progress.find((p) => p.kind === "session")?.message).toContain(String(result.sessionId));
    const use = progress.find((p) => p.kind === "tool_use");
    expect(use?.data).toMatchObject({ tool: "mcp__powerhouse__addActions", mcpServer: "powerhouse", mcpTool: "addActions" });
    expect(use?.message).toContain("Renamed by Claude");
    expect(use?.message.endsWith("…")).toBe(true);
    expect(use?.message.length).toBe("mcp__powerhouse__addActions ".length + 300 + 1);
    expect(progress.some((p) => p.kind === "tool_result" && p.data?.ok === true)).toBe(true);
    expect(progress.some((p) => p.kind === "assistant_text" && p.message === "Renamed the task document.")).toBe(true);

    // Two model requests; the second carries reactor-mcp's answer back to the model.
    expect(requests).toHaveLength(2);
    expect(toolResults(requests[1])).toEqual([expect.stringContaining('"success":true')]);
    // Only the document tools, no shell or files; the system instruction names the source document and drive.
    const tools = (requests[0]?.body.tools ?? []).map((t) => t.name);
    expect(tools).toContain("mcp__powerhouse__addActions");
    expect(tools).toContain("mcp__powerhouse__getDocument");
    expect(tools).toContain("mcp__powerhouse__createDocument");
    expect(tools).not.toContain("mcp__powerhouse__addRemoteDrive");
    expect(tools).not.toContain("mcp__powerhouse__deleteDrive");
    expect(tools.filter((t) => !t.startsWith("mcp__powerhouse__"))).toEqual([]);
    const system = JSON.stringify(requests[0]?.body.system);
    expect(system).toContain(target);
    expect(system).toContain(driveId);
    // The prompt: the source document's context first (its state holds the old title), then the task, verbatim.
    const userText = standIn.userText(requests[0]!);
    expect(userText).toContain("Original title");
    expect(userText.indexOf("Original title")).toBeLessThan(userText.indexOf("Rename the task document"));
    expect(userText).toContain(`@${mentioned}`);
    expect(JSON.stringify(requests.map((r) => r.body))).not.toContain("CONTENT-OF-THE-MENTIONED-FILE");
    // Our own /mcp got the agent's API token on every request.
    const seen = own.authorizations.slice(authBefore);
    expect(seen.length).toBeGreaterThan(2);
    expect(new Set(seen)).toEqual(new Set([`Bearer ${API_TOKEN}`]));
  });

  it("a serverUrl that is not allowed, or an unknown credentialsRef, is refused: at request time, and by execute with no API request", async () => {
    const exec = executor();
    const registry = new ExecutorRegistry().register(exec);
    const refused = parseTaskRequest({ type: "claude-agent", title: "t", prompt: "p", mcpConfig: { serverUrl: "https://evil.example/mcp", credentialsRef: "nope" } }, registry);
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.errors).toContainEqual({ field: "mcpConfig.serverUrl", value: '"https://evil.example/mcp"', message: expect.stringContaining(`${external.url}/mcp`) as string });
    expect(refused.errors).toContainEqual({ field: "mcpConfig.credentialsRef", value: '"nope"', message: expect.stringContaining("external") as string });

    // A task queued under another configuration reaches execute(): refused there, before claude starts.
    for (const mcpConfig of [{ serverUrl: "https://evil.example/mcp" }, { credentialsRef: "nope" }]) {
      const queued = ClaudeAgentTaskRequestSchema.parse({ type: "claude-agent", title: "t", prompt: "p", mcpConfig }) as TaskRequest;
      const { outcome, requests } = await runTask(exec, queued);
      expect(errorOf(outcome)).toMatchObject({ kind: "fatal", code: "invalid_task" });
      const message = errorOf(outcome)?.message ?? "";
      expect(message).toContain(mcpConfig.serverUrl ? "mcpConfig.serverUrl" : "mcpConfig.credentialsRef");
      expect(message).toContain(mcpConfig.serverUrl ?? "nope");
      expect(message).toContain(mcpConfig.serverUrl ? "CLAUDE_AGENT_MCP_URLS" : "CLAUDE_AGENT_MCP_CREDENTIALS");
      expect(requests).toHaveLength(0);
    }
    expect(processesIn(homesDir)).toEqual([]);
  });

  it("a credential given with its server's url goes to that server only: another allowed server, or the agent's own /mcp, is refused before claude starts", async () => {
    const other = "https://other-partner.example/mcp";
    const exec = executor({ allowedMcpUrls: [`${external.url}/mcp`, other], mcpCredentials: { external: { token: EXTERNAL_TOKEN, url: `${external.url}/mcp` }, loose: "loose-token-0123456789" } });
    const registry = new ExecutorRegistry().register(exec);
    const elsewhere = parseTaskRequest({ type: "claude-agent", title: "t", prompt: "p", mcpConfig: { serverUrl: other, credentialsRef: "external" } }, registry);
    expect(elsewhere.ok || elsewhere.errors).toEqual([{ field: "mcpConfig.credentialsRef", value: '"external"', message: `is for ${external.url}/mcp only (CLAUDE_AGENT_MCP_CREDENTIALS); this task's server is ${other}` }]);
    const ownServer = parseTaskRequest({ type: "claude-agent", title: "t", prompt: "p", mcpConfig: { credentialsRef: "external" } }, registry);
    expect(ownServer.ok || ownServer.errors).toEqual([{ field: "mcpConfig.credentialsRef", value: '"external"', message: `is for ${external.url}/mcp only (CLAUDE_AGENT_MCP_CREDENTIALS); this task's server is the agent's own /mcp (no mcpConfig.serverUrl)` }]);
    // Its own server, and a bare token anywhere allowed, pass (built by hand here: a configuration
    // with two servers refuses bare tokens at start, config.test.ts).
    expect(parseTaskRequest({ type: "claude-agent", title: "t", prompt: "p", mcpConfig: { serverUrl: `${external.url}/mcp`, credentialsRef: "external" } }, registry).ok).toBe(true);
    expect(parseTaskRequest({ type: "claude-agent", title: "t", prompt: "p", mcpConfig: { serverUrl: other, credentialsRef: "loose" } }, registry).ok).toBe(true);
    // Queued under another configuration, refused by execute: the token never leaves.
    const queued = ClaudeAgentTaskRequestSchema.parse({ type: "claude-agent", title: "t", prompt: "p", mcpConfig: { serverUrl: other, credentialsRef: "external" } }) as TaskRequest;
    const { outcome, requests } = await runTask(exec, queued);
    expect(errorOf(outcome)).toMatchObject({ kind: "fatal", code: "invalid_task", message: expect.stringContaining(`is for ${external.url}/mcp only`) as string });
    expect(requests).toHaveLength(0);
  });

  it("an allowed serverUrl gets the token credentialsRef names, never the agent's own; the turn limit ends a run as max_turns", async () => {
    standIn.enqueue({ kind: "tool_use", name: "mcp__powerhouse__getDrives", input: {} }, { kind: "tool_use", name: "mcp__powerhouse__getDrives", input: {} });
    const before = external.authorizations.length;
    const ownBefore = own.authorizations.length;
    const { outcome, result, requests } = await run({ prompt: "list the drives", maxTurns: 1, mcpConfig: { serverUrl: `${external.url}/mcp`, credentialsRef: "external" } });
    // The tool call went to the named server, with its token.
    expect(result).toMatchObject({ mcpServer: `${external.url}/mcp`, toolCalls: [{ name: "mcp__powerhouse__getDrives", ok: true }] });
    const seen = external.authorizations.slice(before);
    expect(seen.length).toBeGreaterThan(2);
    expect(new Set(seen)).toEqual(new Set([`Bearer ${EXTERNAL_TOKEN}`]));
    expect(own.authorizations.length).toBe(ownBefore);
    expect(JSON.stringify(outcome)).not.toContain(EXTERNAL_TOKEN);
    expect(errorOf(outcome)).toMatchObject({ kind: "fatal", code: "max_turns" });
    expect(errorOf(outcome)?.message).toContain("(1)");
    expect(requests).toHaveLength(1);

    // Without credentialsRef a listed server gets no token at all (not API_TOKEN): it refuses us, fatal mcp_auth.
    const bare = external.authorizations.length;
    const unnamed = await run({ prompt: "list the drives", mcpConfig: { serverUrl: `${external.url}/mcp` } });
    expect(errorOf(unnamed.outcome)).toMatchObject({ kind: "fatal", code: "mcp_auth" });
    const sent = external.authorizations.slice(bare);
    expect(sent.length).toBeGreaterThan(0);
    expect(new Set(sent)).toEqual(new Set([""]));
    expect(own.authorizations.length).toBe(ownBefore);
    expect(unnamed.requests).toHaveLength(0);
  });

  it("stops at its budget through the SDK (maxBudgetUsd, CLAUDE_MAX_BUDGET_USD as the ceiling, what is left of the daily budget or of its drive's), reporting what it cost", async () => {
    // One call of a million input tokens: $3 at claude-sonnet-4-5's price, as claude counts it.
    // (each its own script: claude stops before the second reply, which must not serve the next run)
    const dear = () => {
      standIn.reset();
      standIn.enqueue({ kind: "tool_use", name: "mcp__powerhouse__getDocument", input: { id: "x" }, inputTokens: 1_000_000 }, { kind: "text", text: "never asked for" });
    };
    dear();
    const own = await run({ prompt: "spend", maxBudgetUsd: 0.5 });
    expect(errorOf(own.outcome)).toMatchObject({ kind: "fatal", code: "max_budget", message: "claude stopped at its budget ($0.50, maxBudgetUsd) before finishing" });
    expect(own.result).toMatchObject({ subtype: "error_max_budget_usd", maxBudgetUsd: 0.5 });
    expect(own.result.costUsd).toBeGreaterThan(3);
    expect(own.requests).toHaveLength(1);

    dear();
    const ceiling = await run({ prompt: "spend", maxBudgetUsd: 100 }, { exec: executor({ defaultMaxBudgetUsd: 0.25 }) });
    expect(errorOf(ceiling.outcome)).toMatchObject({ kind: "fatal", code: "max_budget", message: "claude stopped at its budget ($0.25, CLAUDE_MAX_BUDGET_USD) before finishing" });
    expect(ceiling.result.maxBudgetUsd).toBe(0.25);

    dear();
    const daily = await run({ prompt: "spend", maxBudgetUsd: 1 }, { spendCapUsd: 0.3 });
    expect(errorOf(daily.outcome)).toMatchObject({ kind: "retryable", code: "over_budget", message: "claude stopped at what was left of the daily budget ($0.30, TASK_BUDGET_USD_PER_DAY) before finishing" });
    expect(daily.result.maxBudgetUsd).toBe(0.3);

    // What is left of the budget of the drive whose writers asked for it: retried as well, naming that budget.
    dear();
    const drive = await run({ prompt: "spend" }, { spendCapUsd: 0.4, spendCapFrom: "drive" });
    expect(errorOf(drive.outcome)).toMatchObject({ kind: "retryable", code: "over_budget", message: "claude stopped at what was left of its drive's daily budget ($0.40, TASK_BUDGET_USD_PER_DRIVE_PER_DAY) before finishing" });
    expect(drive.result.maxBudgetUsd).toBe(0.4);
  });

  it("a registry from the configuration: CLAUDE_AGENT_MAX_TURNS is the default turn limit, a failed tool call is reported, priority and concurrency as Claude Code, its own CLAUDE_REQUESTS_PER_MINUTE budget", async () => {
    const config = loadConfig({ TASK_DATA_DIR: path.join(root, "from-config"), TASK_ALLOWED_ROOTS: root, ANTHROPIC_API_KEY: "sk-ant-test-key", ANTHROPIC_BASE_URL: standIn.url, CLAUDE_AGENT_MAX_TURNS: "1", CLAUDE_MAX_CONCURRENT: "3", CLAUDE_REQUESTS_PER_MINUTE: "1" }, root);
    const registry = createDefaultRegistry(config, { ownMcp: () => ({ url: `${own.url}/mcp`, token: API_TOKEN }) });
    const exec = registry.get("claude-agent");
    if (!exec) throw new Error("no claude-agent executor registered");
    expect(exec.defaultPriority).toBe(40);
    expect(exec.defaultPriority).toBe(registry.get("claude-code")?.defaultPriority);
    expect(managerSettingsFromConfig(config).typeConcurrency).toMatchObject({ "claude-code": 3, "claude-agent": 3 });

    standIn.enqueue({ kind: "tool_use", name: "mcp__powerhouse__getDocument", input: { id: "no-such-document" } }, { kind: "text", text: "never asked for" });
    const { outcome, progress, result, requests } = await run({ prompt: "read a document that does not exist" }, { exec });
    expect(errorOf(outcome)).toMatchObject({ kind: "fatal", code: "max_turns" });
    expect(errorOf(outcome)?.message).toContain("(1)");
    expect(result).toMatchObject({ subtype: "error_max_turns", toolCalls: [{ name: "mcp__powerhouse__getDocument", ok: false }] });
    expect(progress.find((p) => p.kind === "tool_result")).toMatchObject({ data: { tool: "mcp__powerhouse__getDocument", ok: false } });
    expect(requests).toHaveLength(1);

    // That run used the claude-agent budget of one start per minute. Claude Code has its own budget: it starts at once.
    const codeExec = registry.get("claude-code");
    if (!codeExec) throw new Error("no claude-code executor registered");
    const codeRequest = parseTaskRequest({ type: "claude-code", title: "t", prompt: "say hi", projectPath: root }, registry);
    if (!codeRequest.ok) throw new Error(JSON.stringify(codeRequest.errors));
    standIn.enqueue({ kind: "text", text: "hi" });
    const code = await runTask(codeExec, codeRequest.value);
    expect(code.outcome.status).toBe("completed");
    expect(code.progress.filter((p) => p.kind === "waiting")).toEqual([]);
    // A second claude-agent start waits for the budget (reported); a cancel while it waits starts nothing.
    const controller = new AbortController();
    let waiting: ProgressEvent | undefined;
    const second = await run({ prompt: "second" }, { exec, signal: controller.signal, onProgress: (p) => {
      if (p.kind !== "waiting") return;
      waiting = p;
      controller.abort(new TaskAbortReason("cancel"));
    } });
    expect(waiting?.message).toMatch(/waiting \d+ s for the Claude requests-per-minute budget/);
    expect(second.outcome.status).toBe("cancelled");
    expect(errorOf(second.outcome)?.message).toContain("before claude started");
    expect(second.requests).toHaveLength(0);
    expect(readdirSync(path.join(root, "from-config", "claude-homes"))).toEqual([]);
  });

  it("API errors: 401 fatal after one request, 429 retryable with the server's retry-after, 529 and 500 retryable, an unreachable API retryable, no key fatal without starting claude", async () => {
    standIn.enqueue({ kind: "error", status: 401, type: "authentication_error", message: "invalid x-api-key" });
    const denied = await run({ prompt: "hi" });
    expect(errorOf(denied.outcome)).toMatchObject({ kind: "fatal", code: "auth" });
    expect(errorOf(denied.outcome)?.message).toContain("ANTHROPIC_API_KEY");
    expect(denied.requests).toHaveLength(1);

    standIn.enqueue({ kind: "error", status: 429, type: "rate_limit_error", message: "slow down", retryAfterSeconds: 2 });
    const limited = await run({ prompt: "hi" });
    expect(errorOf(limited.outcome)).toMatchObject({ kind: "retryable", code: "rate_limited" });
    expect(errorOf(limited.outcome)?.retryAfterMs).toBeGreaterThanOrEqual(2000);
    expect(limited.requests).toHaveLength(1);

    standIn.enqueue({ kind: "error", status: 529, type: "overloaded_error", message: "Overloaded" });
    const overloaded = await run({ prompt: "hi" });
    expect(errorOf(overloaded.outcome)).toMatchObject({ kind: "retryable", code: "overloaded" });
    expect(overloaded.requests).toHaveLength(1);

    standIn.enqueue({ kind: "error", status: 500, type: "api_error", message: "Internal server error" });
    const broken = await run({ prompt: "hi" });
    expect(errorOf(broken.outcome)).toMatchObject({ kind: "retryable", code: "api_error" });
    expect(broken.requests).toHaveLength(1);

    const away = await run({ prompt: "hi" }, { exec: executor({ credentials: { apiKey: "sk-ant-test-key", baseUrl: `http://127.0.0.1:${await closedPort()}` } }) });
    expect(errorOf(away.outcome)).toMatchObject({ kind: "retryable", code: "api_unreachable" });

    const keyless = await run({ prompt: "hi" }, { exec: executor({ credentials: { baseUrl: standIn.url } }) });
    expect(errorOf(keyless.outcome)).toMatchObject({ kind: "fatal", code: "auth" });
    expect(errorOf(keyless.outcome)?.message).toContain("ANTHROPIC_API_KEY");
    expect(keyless.requests).toHaveLength(0);
    expect(keyless.result.pid).toBeUndefined();
  });

  it("cancel mid-run stops claude: its process group is gone and its per-run home removed; it ran in an empty directory of its own HOME, with no token on its command line", async () => {
    const { pending, controller, pid } = await hangingRun();
    // While it runs: its working directory is an empty directory in its own home, HOME is that home,
    // and the MCP token (sent over stdin) is neither on its command line nor in its environment.
    const cwd = readlinkSync(`/proc/${pid}/cwd`);
    expect(path.dirname(path.dirname(cwd))).toBe(homesDir);
    expect(readdirSync(cwd)).toEqual([]);
    const environ = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
    expect(environ).toContain(`HOME=${path.dirname(cwd)}`);
    expect(readFileSync(`/proc/${pid}/cmdline`, "utf8")).not.toContain(API_TOKEN);
    expect(environ.join("\n")).not.toContain(API_TOKEN);

    const abortedAt = performance.now();
    controller.abort(new TaskAbortReason("cancel"));
    const { outcome, result } = await pending;
    const stopMs = performance.now() - abortedAt;
    expect(outcome.status).toBe("cancelled");
    // Our process-group kill, not the SDK's stdin-close grace (measured: 31–66 ms vs 2.0 s).
    expect(stopMs).toBeLessThan(1500);
    expect(result.pid).toBe(pid);
    expect(processAlive(pid)).toBe(false);
    expect(groupMembers(pid)).toEqual([]);
    expect(readdirSync(homesDir)).toEqual([]);
  });

  it("a run cancelled after a dear call reports what claude wrote it had cost", async () => {
    standIn.enqueue({ kind: "tool_use", name: "mcp__powerhouse__getDrives", input: {}, inputTokens: 1_000_000 }, { kind: "hang" });
    const controller = new AbortController();
    const before = standIn.requests.length;
    const pending = run({ prompt: "spend, then wait" }, { signal: controller.signal });
    await waitFor(() => standIn.requests.length - before >= 2 || undefined, 30_000, "claude's second call");
    controller.abort(new TaskAbortReason("cancel"));
    const { outcome, result } = await pending;
    expect(outcome.status).toBe("cancelled");
    expect(result.costUsd).toBeCloseTo(3.00018, 4);
    expect(result.totalCostUsd).toBe(result.costUsd);
  });

  it("with resource limits the claude process runs under them (what /proc says of it mid-run), and its result names them", async () => {
    const { pending, controller, pid } = await hangingRun({ exec: executor({ limits: { cpuSeconds: 90, memoryMb: 2048 } }) });
    const limits = readFileSync(`/proc/${pid}/limits`, "utf8");
    expect(limits).toMatch(/^Max cpu time\s+90\s+92\s+seconds/m);
    expect(limits).toMatch(new RegExp(`^Max data size\\s+${2048 * 1024 * 1024}\\s`, "m"));
    controller.abort(new TaskAbortReason("cancel"));
    const { outcome, result } = await pending;
    expect(outcome.status).toBe("cancelled");
    expect(result.limits).toEqual({ cpuSeconds: 90, memoryMb: 2048 });
  });

  it.skipIf(!testRunUser)("with TASK_RUN_AS_USER the claude process is that user's (mid-run), with no new privileges, and still reaches the agent's own /mcp", async () => {
    const user = testRunUser as RunUser;
    // The homes' directory made as TASK_RUN_AS_USER makes its own: passable, not listable, by others.
    chmodSync(root, 0o711);
    ensureSharedHomesDir(homesDir);
    const { pending, controller, pid } = await hangingRun({ exec: executor({ user }) });
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    expect(status).toMatch(new RegExp(`^Uid:\\s+${user.uid}\\s+${user.uid}\\s`, "m"));
    expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
    controller.abort(new TaskAbortReason("cancel"));
    expect((await pending).outcome.status).toBe("cancelled");
    expect(readdirSync(homesDir)).toEqual([]);
  });

  it.skipIf(!testCgroupRoot)("with TASK_CGROUP_ROOT the run is in a cgroup of its own: removed at the end, its CPU time in the result", async () => {
    standIn.enqueue({ kind: "text", text: "Nothing to do." });
    const { outcome, result } = await run({ prompt: "hi" }, { exec: executor({ cgroupRoot: testCgroupRoot ?? "" }) });
    expect(outcome.status).toBe("completed");
    expect((result.cpu as { userMs: number }).userMs).toBeGreaterThan(0);
    expect(runCgroupsLeft()).toEqual([]);
  });

  it.skipIf(!testCgroupRoot)("with totals on its cgroup (processes, memory of all of them) a claude run completes under them, nothing stopped", async () => {
    standIn.enqueue({ kind: "text", text: "Nothing to do." });
    const { outcome, result } = await run({ prompt: "hi" }, { exec: executor({ cgroupRoot: testCgroupRoot ?? "", limits: { processes: 64, totalMemoryMb: 1024 } }) });
    expect(outcome.status).toBe("completed");
    expect(result.limits).toEqual({ processes: 64, totalMemoryMb: 1024 });
    expect(result.totalsHit).toEqual({ refusedForks: 0, memoryKills: 0 });
    expect(runCgroupsLeft()).toEqual([]);
  });

  it("a timeout kills the process group too and is retryable", async () => {
    const { pending, pid } = await hangingRun({ timeoutMs: 4000 });
    const { outcome, result } = await pending;
    expect(errorOf(outcome)).toMatchObject({ kind: "retryable", code: "timeout" });
    expect(result).toMatchObject({ timedOut: true, pid });
    expect(processAlive(pid)).toBe(false);
    expect(groupMembers(pid)).toEqual([]);
    expect(readdirSync(homesDir)).toEqual([]);
  });

  it("claude dying without a result is claude_crashed", async () => {
    const { pending, pid } = await hangingRun();
    process.kill(pid, "SIGKILL");
    const { outcome, result } = await pending;
    expect(errorOf(outcome)).toMatchObject({ kind: "fatal", code: "claude_crashed" });
    expect(errorOf(outcome)?.message).toContain("SIGKILL");
    expect(result).toMatchObject({ pid, exitCode: null });
    expect(groupMembers(pid)).toEqual([]);
    expect(readdirSync(homesDir)).toEqual([]);
  });

  it("the claude process group: SIGTERM first, SIGKILL after the grace period for what ignores SIGTERM", async () => {
    const proc = new ClaudeAgentProcess({ killGraceMs: 700 });
    proc.spawn({ command: "sh", args: ["-c", "trap '' TERM; sleep 30 & wait; sleep 30"], cwd: root, env: { PATH: process.env.PATH }, signal: new AbortController().signal });
    const pgid = proc.pid ?? 0;
    expect(pgid).toBeGreaterThan(0);
    try {
      await waitFor(() => groupMembers(pgid).length >= 2 || undefined, 5000, "the shell and its sleep");
      const members = groupMembers(pgid);
      const stoppedAt = performance.now();
      proc.stop();
      await sleep(350);
      expect(groupMembers(pgid)).toEqual(members); // SIGTERM is ignored: still there within the grace
      await proc.gone(0);
      expect(performance.now() - stoppedAt).toBeGreaterThanOrEqual(650);
      expect(groupMembers(pgid)).toEqual([]);
      expect(proc.signal).toBe("SIGKILL");
    } finally {
      try {
        process.kill(-pgid, "SIGKILL"); // whatever a failed assertion left behind
      } catch {
        // already gone
      }
    }
  });

  it("the claude process's strays: a process it started in a session of its own (setsid) ends with the run", async () => {
    const proc = new ClaudeAgentProcess({ killGraceMs: 300 });
    const pidFile = path.join(root, "agent-stray.pid");
    // The leader exits once the stray has written its pid (not before: its end would stop the
    // stray too soon to be seen); the stray has left the group and goes on under init.
    proc.spawn({ command: "sh", args: ["-c", `setsid sh -c 'echo $$ > ${pidFile}; exec sleep 300' >/dev/null 2>&1 </dev/null & while [ ! -s ${pidFile} ]; do sleep 0.05; done; exit 0`], cwd: root, env: { PATH: process.env.PATH }, signal: new AbortController().signal });
    const stray = await waitFor(() => readPid(pidFile), 5000, "stray pid");
    try {
      await proc.gone(2000);
      expect(processAlive(stray)).toBe(false);
    } finally {
      try {
        process.kill(stray, "SIGKILL"); // whatever a failed assertion left behind
      } catch {
        // already gone
      }
    }
  });

  it("an MCP endpoint that is down or does not answer is retryable mcp_unavailable, refused credentials are fatal mcp_auth: all before any API request", async () => {
    const down = `http://127.0.0.1:${await closedPort()}/mcp`;
    const unreachable = await run({ prompt: "hi" }, { exec: executor({ ownMcp: () => ({ url: down, token: API_TOKEN }) }) });
    expect(errorOf(unreachable.outcome)).toMatchObject({ kind: "retryable", code: "mcp_unavailable" });
    expect(errorOf(unreachable.outcome)?.message).toMatch(/failed.*ECONNREFUSED/);
    expect(unreachable.result).toMatchObject({ mcpStatus: "failed" });
    expect(unreachable.requests).toHaveLength(0);

    const wrongToken = await run({ prompt: "hi" }, { exec: executor({ ownMcp: () => ({ url: `${own.url}/mcp`, token: "not-the-token-at-all" }) }) });
    expect(errorOf(wrongToken.outcome)).toMatchObject({ kind: "fatal", code: "mcp_auth" });
    expect(JSON.stringify(wrongToken.outcome)).not.toContain("not-the-token-at-all");
    expect(wrongToken.requests).toHaveLength(0);

    // A server that accepts the connection and never answers (the CLI itself gives up after 30 s).
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(silent.address() as { port: number }).port}/mcp`;
      const mute = await run({ prompt: "hi" }, { exec: executor({ ownMcp: () => ({ url, token: API_TOKEN }), mcpConnectTimeoutMs: 1000 }) });
      expect(errorOf(mute.outcome)).toMatchObject({ kind: "retryable", code: "mcp_unavailable" });
      expect(errorOf(mute.outcome)?.message).toContain("still connecting after 1000 ms");
      expect(mute.requests).toHaveLength(0);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }

    // Outside `serve` there is no own /mcp: MCP_SERVER_URL is used (and named in the error).
    const config = loadConfig({ TASK_DATA_DIR: path.join(root, "fallback"), ANTHROPIC_API_KEY: "sk-ant-test-key", ANTHROPIC_BASE_URL: standIn.url, MCP_SERVER_URL: down }, root);
    const fallback = await run({ prompt: "hi" }, { exec: createDefaultRegistry(config).get("claude-agent") });
    expect(errorOf(fallback.outcome)).toMatchObject({ kind: "retryable", code: "mcp_unavailable" });
    expect(errorOf(fallback.outcome)?.message).toContain(`${down} (MCP_SERVER_URL)`);
    expect(fallback.result).toMatchObject({ mcpServer: down });
    expect(fallback.requests).toHaveLength(0);
  });

  it("bad fields are request errors naming the field and the value", () => {
    const registry = new ExecutorRegistry().register(executor());
    const parsed = parseTaskRequest({ type: "claude-agent", title: "t", prompt: "", maxTurns: 0, mcpConfig: { serverUrl: "not a url" } }, registry);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors).toContainEqual({ field: "prompt", value: '""', message: "must not be empty" });
    expect(parsed.errors).toContainEqual(expect.objectContaining({ field: "maxTurns", value: "0" }));
    expect(parsed.errors).toContainEqual(expect.objectContaining({ field: "mcpConfig.serverUrl", value: '"not a url"' }));
  });

  it("the agent's log masks the MCP credentials wherever they appear", () => {
    const config = loadConfig({ TASK_DATA_DIR: path.join(root, "log"), CLAUDE_AGENT_MCP_CREDENTIALS: JSON.stringify({ external: EXTERNAL_TOKEN }) }, root);
    const lines: string[] = [];
    const logger = createLogger({ level: "info", secrets: agentSecrets(config), destination: { write: (line: string) => void lines.push(line) } });
    logger.info({ note: `header Bearer ${EXTERNAL_TOKEN}` }, `connecting with ${EXTERNAL_TOKEN}`);
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(EXTERNAL_TOKEN);
    expect(lines[0]).toContain("Bearer [REDACTED]");
  });

  it("a follow-up (continueFrom) resumes the earlier run's conversation through the SDK: the model is sent both turns", async () => {
    const store = await TaskStore.open({});
    const keep = { store, conversations: new ConversationStore(store.db) };
    try {
      standIn.enqueue({ kind: "text", text: "Noted: PELICAN-7." });
      const first = await run({ prompt: "Remember the codeword PELICAN-7." }, { keep });
      expect(first.outcome.status).toBe("completed");
      expect(first.result.conversationKept).toBe(true);
      standIn.enqueue({ kind: "text", text: "It was PELICAN-7." });
      const follow = await run({ prompt: "Which codeword did I give you?", continueFrom: first.task.id }, { keep });
      expect(follow.outcome.status).toBe("completed");
      const sent = JSON.stringify(follow.requests[0]?.body.messages ?? []);
      for (const part of ["Remember the codeword PELICAN-7.", "Noted: PELICAN-7.", "Which codeword did I give you?"]) expect(sent).toContain(part);
      expect(follow.result).toMatchObject({ text: "It was PELICAN-7.", conversationKept: true });
      expect(follow.result.sessionId).not.toBe(first.result.sessionId);
      // Run outside the task store (ph-tasks run), a follow-up fails saying why, before any request.
      const outside = await run({ prompt: "again?", continueFrom: first.task.id });
      expect(outside.outcome.status === "completed" ? undefined : outside.outcome.error).toMatchObject({ kind: "fatal", code: "no_conversation" });
      expect(outside.requests).toHaveLength(0);
    } finally {
      await store.close();
    }
  });

  it("leaves no per-run home and no claude process behind", () => {
    expect(existsSync(homesDir) ? readdirSync(homesDir) : []).toEqual([]);
    expect(processesIn(root)).toEqual([]);
  });
});

/** A task document asks Claude to rename another document over the agent's own /mcp; its end state. */
async function renameOverOwnMcp(agent: Agent, standIn: StandIn) {
  const target = await addTaskDocument(agent.reactor, agent.localDriveId, { spec: { title: "Before" } });
  standIn.enqueue(
    { kind: "tool_use", name: "mcp__powerhouse__addActions", input: { documentId: target, actions: [{ type: "SET_SPEC", input: { title: "After" }, scope: "global" }] } },
    { kind: "text", text: "Renamed it." },
  );
  const asking = await addTaskDocument(agent.reactor, agent.localDriveId, { spec: { title: "Rename the other document", taskType: "claude-agent", params: { prompt: `Rename document ${target} to After` } }, requestRun: true });
  const state = await waitFor(async () => {
    const s = await getTaskDocumentState(agent.reactor, asking);
    return ["completed", "failed"].includes(s.status) ? s : undefined;
  }, 60_000, "the claude-agent task document to finish");
  return { target, asking, state };
}

describe("claude-agent tasks through the agent", () => {
  it("on the default agent (no API_TOKEN) Claude reaches the agent's own /mcp past the host, origin and same-user checks", async () => {
    const standIn = await startStandIn();
    const dataDir = mkdtempSync(path.join(root, "agent-open-"));
    const env = { TASK_DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "silent", ANTHROPIC_API_KEY: "sk-ant-test-key", ANTHROPIC_BASE_URL: standIn.url, TASK_SHUTDOWN_GRACE_MS: "100", TASK_KILL_GRACE_MS: "500" };
    const agent = await startAgent(loadConfig(env, dataDir), { logger: silentLogger(), reactorStorage: { kind: "memory" }, rules: [] });
    try {
      const { target, state } = await renameOverOwnMcp(agent, standIn);
      expect(state.error ?? null).toBeNull();
      expect(state.status).toBe("completed");
      expect((await getTaskDocumentState(agent.reactor, target)).title).toBe("After");
    } finally {
      await agent.stop();
      await standIn.close();
    }
  });

  it("a task document is run by startAgent: Claude edits another document over the agent's own /mcp, and the task document completes; ph-tasks submit claude-agent works", async () => {
    const standIn = await startStandIn();
    const dataDir = mkdtempSync(path.join(root, "agent-"));
    const env = { TASK_DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "silent", API_TOKEN, ANTHROPIC_API_KEY: "sk-ant-test-key", ANTHROPIC_BASE_URL: standIn.url, TASK_SHUTDOWN_GRACE_MS: "100", TASK_KILL_GRACE_MS: "500" };
    const agent = await startAgent(loadConfig(env, dataDir), { logger: silentLogger(), reactorStorage: { kind: "memory" }, rules: [] });
    try {
      const { target, asking, state } = await renameOverOwnMcp(agent, standIn);
      expect(state.status).toBe("completed");
      expect(state.result).toMatchObject({ text: "Renamed it.", toolCalls: [{ name: "mcp__powerhouse__addActions", ok: true }] });
      expect(state.runs[0]?.costUsd).toBeGreaterThan(0);
      expect(JSON.stringify(state)).not.toContain(API_TOKEN); // the token of its own /mcp is in no document
      expect((await getTaskDocumentState(agent.reactor, target)).title).toBe("After");
      // The task came from the asking document: the model was told its id.
      expect(JSON.stringify(standIn.requests[0]?.body.system)).toContain(asking);

      // The CLI: --prompt and --max-turns, then the prompt on stdin with --title.
      const client = { PH_TASKS_URL: agent.url, API_TOKEN };
      const finished = (id: string) =>
        waitFor(async () => {
          const { task } = (await (await fetch(`${agent.url}/api/tasks/${id}`, { headers: { authorization: `Bearer ${API_TOKEN}` } })).json()) as { task: { status: string; result?: Record<string, unknown> } };
          return ["completed", "failed", "cancelled"].includes(task.status) ? task : undefined;
        }, 60_000, `task ${id} to finish`);
      standIn.enqueue(
        { kind: "tool_use", name: "mcp__powerhouse__addActions", input: { documentId: target, actions: [{ type: "SET_SPEC", input: { title: "Ship it" }, scope: "global" }] } },
        { kind: "text", text: "Set." },
      );
      const submitted = await phTasks(["submit", "claude-agent", "--prompt", `Set the title of document ${target} to 'Ship it'`, "--max-turns", "5", "--json"], client);
      expect(submitted.status).toBe(0);
      const task = JSON.parse(submitted.stdout) as { id: string; type: string; title: string };
      expect(task).toMatchObject({ type: "claude-agent", title: `Set the title of document ${target} to 'Ship it'` });
      expect(await finished(task.id)).toMatchObject({ status: "completed", result: { text: "Set." } });
      expect((await getTaskDocumentState(agent.reactor, target)).title).toBe("Ship it");
      const asked = standIn.requests.at(-2);
      expect(standIn.userText(asked!)).toContain("'Ship it'");

      standIn.enqueue({ kind: "tool_use", name: "mcp__powerhouse__getDrives", input: {} }, { kind: "text", text: "One drive." });
      const piped = await phTasks(["submit", "claude-agent", "--title", "Inventory", "--json"], client, "List the drives and their documents\n");
      expect(piped.status).toBe(0);
      const inventory = JSON.parse(piped.stdout) as { id: string; title: string };
      expect(inventory.title).toBe("Inventory");
      expect(await finished(inventory.id)).toMatchObject({ status: "completed", result: { text: "One drive.", toolCalls: [{ name: "mcp__powerhouse__getDrives", ok: true }] } });
      expect(standIn.userText(standIn.requests.at(-2)!)).toContain("List the drives and their documents");

      const empty = await phTasks(["submit", "claude-agent"], client, "");
      expect(empty.status).toBe(2);
      expect(empty.stderr).toContain("--prompt");
      const refused = await phTasks(["submit", "claude-agent", "--prompt", "hi", "--mcp-url", "https://evil.example/mcp"], client);
      expect(refused.status).toBe(2);
      expect(refused.stderr).toContain("mcpConfig.serverUrl");
      expect(refused.stderr).toContain("CLAUDE_AGENT_MCP_URLS");
      expect(readdirSync(path.join(dataDir, "claude-homes"))).toEqual([]);
    } finally {
      await agent.stop();
      await standIn.close();
    }
  }, 120_000);
});
