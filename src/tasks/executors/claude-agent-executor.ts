/**
 * Runs a Claude agent task: the pinned Agent SDK's query() on our located `claude` binary, with one
 * MCP server — by default the agent's own reactor-mcp — and only its document tools (no shell, no
 * files: this agent edits documents). The prompt waits until the MCP server is connected, so a run
 * whose server is down makes no API request. Errors are classified from the messages seen (the
 * SDK's query() throws after an error result; the throw only matters when no result came).
 */
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { query, type McpServerStatus, type Query, type SDKUserMessage } from "@anthropic-ai/claude-agent-sdk";
import type { z } from "zod";
import { ClaudeAgentTaskRequestSchema, type ClaudeAgentTask, type JsonObject, type JsonValue } from "../types.js";
import { abortCauseOf, fatal, retryable, type ExecutionContext, type TaskExecutionError, type TaskExecutor } from "./executor.js";
import { budgetStop, runBudget } from "./claude/run-budget.js";
import { ALLOWED_MCP_TOOLS, DISALLOWED_MCP_TOOLS, MCP_SERVER_NAME, mcpProblems, resolveMcpTarget, toCredential, type McpCredential, type McpPolicy, type McpTarget, type OwnMcp } from "./claude/agent-mcp.js";
import { AgentRunLog } from "./claude/agent-messages.js";
import { ClaudeAgentProcess } from "./claude/agent-process.js";
import { agentSystemPrompt } from "./claude/agent-prompt.js";
import { classifyApiFailure, serverRetryAfterMs } from "./claude/api-errors.js";
import { claudeEnvironment, type ClaudeCredentials } from "./claude/claude-environment.js";
import type { DocumentContextProvider } from "./claude/document-context.js";
import { locateClaudeBinary } from "./claude/locate-claude-binary.js";
import type { PromptTemplate } from "./claude/prompt-template.js";
import { StartsPerMinute } from "./claude/rate-limiter.js";
import { awaitStartBudget, buildTaskPrompt, runHomePath } from "./claude/run-start.js";
import { ownCost, placeConversation, settleConversation, type ResumedConversation, type SettledConversation } from "./claude/conversation.js";
import { claudeLimitsProblems, claudeRoomProblem } from "./claude/claude-limits.js";
import type { RunUser } from "./run-as-user.js";
import { confinementFailure } from "./confined-launch.js";
import { effectiveLimits, limitsInForce, limitsJson, limitStop, type RunLimits } from "./run-limits.js";
import type { FieldError } from "../../validation.js";

export interface ClaudeAgentExecutorOptions {
  /** CLAUDE_CLI_PATH; default: the binary the pinned Agent SDK ships. */
  claudePath?: string | undefined;
  credentials: ClaudeCredentials;
  defaultModel: string;
  /** CLAUDE_MAX_BUDGET_USD: the most a run may spend (a task's maxBudgetUsd may lower it). */
  defaultMaxBudgetUsd?: number | undefined;
  /** CLAUDE_AGENT_MAX_TURNS: the turn limit of tasks that set none. */
  defaultMaxTurns: number;
  /** Per-run homes (and their empty working directories) go under here. */
  homesDir: string;
  killGraceMs: number;
  requestsPerMinute: number;
  /** TASK_CGROUP_ROOT: each run in a cgroup of its own there (run-cgroup.ts); none when undefined. */
  cgroupRoot?: string;
  /** TASK_LIMIT_*: the most a run may have, and what it gets when its task asks for less or nothing. */
  limits?: RunLimits;
  /** TASK_RUN_AS_USER: the account runs have (run-as-user.ts; homesDir must be one it can reach). */
  user?: RunUser | undefined;
  /** The agent's own reactor-mcp, once its HTTP server listens. */
  ownMcp?: (() => OwnMcp | undefined) | undefined;
  /** MCP_SERVER_URL, used when ownMcp gives nothing. */
  fallbackMcpUrl?: string | undefined;
  /** CLAUDE_AGENT_MCP_URLS. */
  allowedMcpUrls?: readonly string[];
  /** CLAUDE_AGENT_MCP_CREDENTIALS: a token, or a token and the one server it is for. */
  mcpCredentials?: Readonly<Record<string, string | McpCredential>>;
  /** Longest wait for the MCP server to connect (the CLI gives up after 30 s by itself). */
  mcpConnectTimeoutMs?: number;
  documentContext?: DocumentContextProvider | undefined;
  promptTemplate?: PromptTemplate;
  agentEnv?: Readonly<Record<string, string | undefined>>;
}

const MCP_POLL_MS = 50;

/** A prompt stream that yields the prompt once `release` is called, or nothing if `cancel` is. */
function gatedPrompt(text: string): { stream: AsyncIterable<SDKUserMessage>; release(): void; cancel(): void } {
  let settle: (send: boolean) => void = () => undefined;
  const gate = new Promise<boolean>((resolve) => (settle = resolve));
  async function* stream(): AsyncGenerator<SDKUserMessage> {
    if (await gate) yield { type: "user", message: { role: "user", content: text }, parent_tool_use_id: null };
  }
  return { stream: stream(), release: () => settle(true), cancel: () => settle(false) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls the CLI until our MCP server is no longer "pending" (or the run is stopped). */
async function settledMcpStatus(run: Query, signal: AbortSignal, timeoutMs: number): Promise<McpServerStatus | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = (await run.mcpServerStatus()).find((s) => s.name === MCP_SERVER_NAME);
    if (status?.status !== "pending" || signal.aborted) return status;
    if (Date.now() > deadline) return { ...status, status: "failed", error: `still connecting after ${timeoutMs} ms` };
    await sleep(MCP_POLL_MS);
  }
}

/** An MCP server that is not connected: refused credentials are final, anything else may pass. */
function mcpFailure(status: McpServerStatus | undefined, target: McpTarget, result: JsonObject): TaskExecutionError {
  const state = status?.status ?? "missing";
  const detail = `${state}${status?.error ? `: ${status.error}` : ""}`;
  const where = `${target.url} (${target.source === "own" ? "the agent's own /mcp" : target.source === "task" ? "mcpConfig.serverUrl" : "MCP_SERVER_URL"})`;
  if (state === "needs-auth" || /\b(401|403)\b|unauthori[sz]ed|forbidden/i.test(status?.error ?? "")) {
    return fatal("mcp_auth", `the MCP server ${where} refused the credentials (${detail}); check mcpConfig.credentialsRef / CLAUDE_AGENT_MCP_CREDENTIALS, or API_TOKEN for the agent's own /mcp`, { result });
  }
  return retryable("mcp_unavailable", `the MCP server ${where} is not available (${detail})`, { result });
}

export class ClaudeAgentExecutor implements TaskExecutor<ClaudeAgentTask> {
  readonly type = "claude-agent";
  readonly requestSchema: z.ZodType<Record<string, unknown>>;
  readonly defaultPriority = 40;
  /** Its result's costUsd counts toward the spend and the daily budget (spend-budget.ts). */
  readonly reportsCost = true;
  private readonly starts: StartsPerMinute;
  private readonly policy: McpPolicy;

  constructor(private readonly options: ClaudeAgentExecutorOptions) {
    this.starts = new StartsPerMinute(options.requestsPerMinute);
    this.policy = { ownMcp: options.ownMcp, fallbackUrl: options.fallbackMcpUrl, allowedUrls: options.allowedMcpUrls ?? [], credentials: Object.fromEntries(Object.entries(options.mcpCredentials ?? {}).map(([name, value]) => [name, toCredential(value)])) };
    // A server or credential the policy refuses is a request error (field, value, what is allowed);
    // execute() checks again, for tasks queued under another configuration.
    this.requestSchema = ClaudeAgentTaskRequestSchema.superRefine((request, issues) => {
      for (const problem of mcpProblems(request.mcpConfig, this.policy)) {
        issues.addIssue({ code: "custom", path: problem.field.split("."), message: problem.message, input: problem.value });
      }
    });
  }

  /** Refused when accepted: limits above the agent's, or too low for claude (the MCP policy is in requestSchema). */
  admit(task: ClaudeAgentTask): Promise<FieldError[]> {
    return Promise.resolve(claudeLimitsProblems(task.limits, this.options.limits, this.options.cgroupRoot));
  }

  async execute(task: ClaudeAgentTask, ctx: ExecutionContext): Promise<JsonObject> {
    const started = performance.now();
    // Everything a document could get wrong is refused before anything starts.
    if (!this.options.credentials.apiKey) throw fatal("auth", "no Anthropic API key: set ANTHROPIC_API_KEY for the agent to run Claude tasks");
    const binary = locateClaudeBinary(this.options.claudePath);
    if (!binary) throw fatal("claude_not_found", "the claude binary was not found: install dependencies with optional packages, or set CLAUDE_CLI_PATH");
    const mcp = resolveMcpTarget(task.mcpConfig, this.policy);
    // Above the agent's (lowered since the task was accepted): the agent's, never more.
    const limits = effectiveLimits(this.options.limits, task.limits);
    const tooSmall = claudeRoomProblem(limits);
    if (tooSmall) throw fatal("limits_too_low", tooSmall);
    const { prompt, document } = await buildTaskPrompt(this.options, task);

    const budget = runBudget(task.maxBudgetUsd, this.options.defaultMaxBudgetUsd, ctx);
    await awaitStartBudget(this.starts, ctx);

    const home = runHomePath(this.options.homesDir, task.id, ctx.attempt);
    const cwd = path.join(home, "work"); // empty: this agent edits documents, not files
    const model = task.model ?? this.options.defaultModel;
    const maxTurns = task.maxTurns ?? this.options.defaultMaxTurns;
    const proc = new ClaudeAgentProcess({ killGraceMs: this.options.killGraceMs, ...(this.options.cgroupRoot !== undefined ? { cgroupRoot: this.options.cgroupRoot } : {}), limits, user: this.options.user, onStderr: (data) => ctx.output({ stream: "stderr", data }) });
    const log = new AgentRunLog(ctx);
    const abortController = new AbortController();
    const input = gatedPrompt(prompt);
    const halt = () => {
      input.cancel();
      proc.stop();
      abortController.abort();
    };
    ctx.signal.addEventListener("abort", halt, { once: true });

    let mcpStatus: McpServerStatus | undefined;
    let mcpConnected = false;
    let thrown: unknown;
    let run: Query | undefined;
    let transcript: SettledConversation;
    let resumed: ResumedConversation | undefined;
    const configDir = path.join(home, ".claude");
    try {
      await mkdir(cwd, { recursive: true });
      // A follow-up: the earlier task's conversation, resumed as a new session (claude/conversation.ts).
      resumed = await placeConversation(task.continueFrom, ctx, configDir);
      run = query({
        prompt: input.stream,
        options: {
          pathToClaudeCodeExecutable: binary,
          spawnClaudeCodeProcess: proc.spawn,
          abortController,
          cwd,
          env: await claudeEnvironment(home, this.options.credentials, this.options.agentEnv, this.options.user),
          model,
          maxTurns,
          ...(budget ? { maxBudgetUsd: budget.usd } : {}),
          systemPrompt: agentSystemPrompt(task.source, document),
          // One MCP server, ours; its headers go over stdin, never on the command line.
          mcpServers: { [MCP_SERVER_NAME]: { type: "http", url: mcp.url, headers: mcp.headers } },
          mcpServersDelivery: "initialize",
          strictMcpConfig: true,
          settingSources: [],
          tools: [],
          allowedTools: ALLOWED_MCP_TOOLS,
          disallowedTools: DISALLOWED_MCP_TOOLS,
          permissionMode: "dontAsk",
          // Written to the run's home (removed after it), and kept in the store for follow-ups.
          persistSession: true,
          ...(resumed ? { resume: resumed.sessionId, forkSession: true } : {}),
          // The prompt comes from documents: no @file expansion, no slash commands.
          verbatimPrompts: true,
        },
      });
      try {
        mcpStatus = await settledMcpStatus(run, ctx.signal, this.options.mcpConnectTimeoutMs ?? 60_000);
        mcpConnected = mcpStatus?.status === "connected";
      } catch (error) {
        thrown = error;
      }
      if (mcpConnected && !ctx.signal.aborted) {
        ctx.progress({ kind: "mcp", message: `MCP server ${MCP_SERVER_NAME} connected: ${mcp.url}`, data: { url: mcp.url, source: mcp.source } });
        input.release();
        try {
          for await (const message of run) {
            if (log.handle(message) === "stop") {
              halt();
              break;
            }
          }
        } catch (error) {
          // After an error result query() throws too: what the messages said decides.
          thrown = error;
        }
      } else {
        halt();
      }
    } finally {
      ctx.signal.removeEventListener("abort", halt);
      input.cancel();
      run?.close();
      await proc.gone(5000);
      transcript = await settleConversation(task.id, ctx, configDir, log.result?.session_id ?? log.sessionId);
      await rm(home, { recursive: true, force: true }).catch(() => undefined);
    }

    const limitsUsed = limitsJson(limits);
    // Without a result (a cancel, a timeout, a crash) what the run cost is what claude last wrote.
    const spent = transcript.sessionCostUsd !== undefined ? ownCost(transcript.sessionCostUsd, resumed) : undefined;
    const base: JsonObject = {
      ...transcript.fields,
      ...(spent !== undefined ? { costUsd: spent, totalCostUsd: spent } : {}),
      model: log.model ?? model,
      mcpServer: mcp.url,
      durationMs: Math.round(performance.now() - started),
      pid: proc.pid ?? null,
      exitCode: proc.exitCode,
      ...(proc.cpu ? { cpu: { ...proc.cpu } } : {}),
      ...(limitsUsed ? { limits: limitsUsed } : {}),
      ...(proc.totalsHit ? { totalsHit: { ...proc.totalsHit } } : {}),
      ...(this.options.user ? { runAs: this.options.user.name } : {}),
      ...(budget ? { maxBudgetUsd: budget.usd } : {}),
    };
    const thrownText = thrown instanceof Error ? thrown.message : thrown === undefined ? "" : JSON.stringify(thrown);
    const confinement = confinementFailure(proc.spawnError);
    if (confinement) throw fatal(confinement, `claude was not started: ${proc.spawnError?.message ?? ""}`, { result: base });
    if (proc.spawnError || (!proc.started && /ENOENT|spawn/i.test(thrownText))) {
      throw fatal("claude_not_found", `claude could not be started (${binary}): ${proc.spawnError?.message ?? thrownText}`, { result: base });
    }
    const cause = abortCauseOf(ctx.signal);
    if (cause === "timeout") throw retryable("timeout", "timed out; claude's process group killed", { result: { ...base, timedOut: true } });
    if (cause !== undefined) throw fatal(cause === "cancel" ? "cancelled" : "shutdown", `stopped (${cause}); claude's process group killed`, { result: { ...base, cancelled: true } });
    if (!mcpConnected && mcpStatus !== undefined) {
      throw mcpFailure(mcpStatus, mcp, { ...base, mcpStatus: mcpStatus.status, ...(mcpStatus.error ? { mcpError: mcpStatus.error } : {}) });
    }
    if (log.apiRetry) {
      const status = log.apiRetry.error_status;
      throw classifyApiFailure({ status, text: log.apiRetry.error ?? "API error", retryAfterMs: serverRetryAfterMs(log.apiRetry.retry_delay_ms), result: { ...base, apiErrorStatus: status ?? null }, transient: true });
    }
    const result = log.result;
    if (!result) {
      const stderrTail = proc.stderrText().slice(-2000).trim();
      const detail = stderrTail || thrownText;
      if (/not logged in|api key/i.test(detail)) throw classifyApiFailure({ status: 401, text: detail, result: base });
      const stop = limitStop(proc, limits);
      if (stop) throw fatal(stop.code, `claude ${stop.message}`, { result: base });
      throw fatal("claude_crashed", `claude exited with ${proc.exitCode ?? proc.signal ?? "no status"} and no result${limitsInForce(limits)}: ${detail || "(no output)"}`, { result: base });
    }
    const json: JsonObject = {
      ...base,
      text: result.result ?? "",
      isError: result.is_error,
      subtype: result.subtype,
      turns: result.num_turns ?? null,
      sessionId: result.session_id ?? log.sessionId ?? null,
      // A resumed session reports the whole conversation's cost: the run's own is counted.
      costUsd: result.total_cost_usd == null ? null : ownCost(result.total_cost_usd, resumed),
      // The name the task document's run history reads the cost from (as for claude-code tasks).
      totalCostUsd: result.total_cost_usd == null ? null : ownCost(result.total_cost_usd, resumed),
      ...(resumed && result.total_cost_usd != null ? { conversationCostUsd: result.total_cost_usd } : {}),
      usage: (result.usage ?? {}) as JsonValue,
      permissionDenials: (result.permission_denials ?? []) as JsonValue,
      toolCalls: log.toolCalls().map((call) => ({ name: call.name, ok: call.ok })),
    };
    if (result.subtype === "error_max_turns") throw fatal("max_turns", `claude stopped at the turn limit (${maxTurns}) before finishing`, { result: json });
    if (result.subtype === "error_max_budget_usd") throw budgetStop(budget, json);
    if (result.is_error) {
      throw classifyApiFailure({ status: result.api_error_status, text: result.result ?? result.subtype, result: json, transient: result.api_error === "connection_failed" });
    }
    if (result.subtype !== "success") throw fatal("claude_error", `claude ended with ${result.subtype}`, { result: json });
    return json;
  }
}
