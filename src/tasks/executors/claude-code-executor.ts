/**
 * Runs a Claude Code task on the real `claude` CLI: print mode, stream-json out, the prompt (with
 * the source document's context) on stdin so no length or quoting can break it, in the task's
 * project directory inside the allowed roots, with its own HOME and the API key only it sees.
 * Errors are read the way the CLI really reports them (subtype stays "success" on API errors).
 */
import { rm } from "node:fs/promises";
import path from "node:path";
import { ClaudeCodeTaskRequestSchema, type ClaudeCodeTask, type JsonObject, type JsonValue } from "../types.js";
import { abortCauseOf, fatal, retryable, TaskAbortReason, type ExecutionContext, type TaskExecutor } from "./executor.js";
import { runProcess } from "./run-process.js";
import { realRoots, resolveWorkingDirectory, workingDirectoryProblem } from "./working-directory.js";
import { describeValue, type FieldError } from "../../validation.js";
import { budgetStop, runBudget } from "./claude/run-budget.js";
import { ownCost, placeConversation, settleConversation } from "./claude/conversation.js";
import { classifyApiFailure, serverRetryAfterMs } from "./claude/api-errors.js";
import { claudeEnvironment, type ClaudeCredentials } from "./claude/claude-environment.js";
import type { DocumentContextProvider } from "./claude/document-context.js";
import { checkAdditionalFlags } from "./claude/flag-allowlist.js";
import { readProjectMemory, skippedProjectSettings, withProjectMemory } from "./claude/project-memory.js";
import { allowedToolsProblem, scopeFileTools } from "./claude/tool-allowlist.js";
import { locateClaudeBinary } from "./claude/locate-claude-binary.js";
import type { PromptTemplate } from "./claude/prompt-template.js";
import { StartsPerMinute } from "./claude/rate-limiter.js";
import { awaitStartBudget, buildTaskPrompt, runHomePath } from "./claude/run-start.js";
import { StreamJsonParser, type StreamEvent } from "./claude/stream-json.js";
import { claudeLimitsProblems, claudeRoomProblem } from "./claude/claude-limits.js";
import type { RunUser } from "./run-as-user.js";
import { confinementFailure } from "./confined-launch.js";
import { effectiveLimits, limitsInForce, limitsJson, limitStop, type RunLimits } from "./run-limits.js";

export interface ClaudeCodeExecutorOptions {
  /** CLAUDE_CLI_PATH; default: the binary the pinned Agent SDK ships. */
  claudePath?: string | undefined;
  credentials: ClaudeCredentials;
  defaultModel: string;
  /** CLAUDE_MAX_BUDGET_USD: the most a run may spend (a task's maxBudgetUsd may lower it). */
  defaultMaxBudgetUsd?: number | undefined;
  allowedRoots: readonly string[];
  /** Per-run homes go under here (TASK_DATA_DIR/claude-homes). */
  homesDir: string;
  killGraceMs: number;
  captureBytes: number;
  /** TASK_CGROUP_ROOT: each run in a cgroup of its own there (run-cgroup.ts); none when undefined. */
  cgroupRoot?: string;
  /** TASK_LIMIT_*: the most a run may have, and what it gets when its task asks for less or nothing. */
  limits?: RunLimits;
  /** TASK_RUN_AS_USER: the account runs have (run-as-user.ts; homesDir must be one it can reach). */
  user?: RunUser | undefined;
  requestsPerMinute: number;
  documentContext?: DocumentContextProvider | undefined;
  promptTemplate?: PromptTemplate;
  agentEnv?: Readonly<Record<string, string | undefined>>;
  /** CLAUDE_CODE_PROJECT_SETTINGS: let claude load the project's .claude/settings (code: see project-memory.ts). */
  projectSettings?: boolean;
  /** TASK_COMMAND_ALLOWLIST and CLAUDE_CODE_ALLOWED_TOOLS: which tools a task may pre-approve (tool-allowlist.ts). */
  commandAllowlist?: readonly string[];
  toolAllowlist?: readonly string[];
}

/** Permission modes a document may ask for; bypassing permissions is the agent owner's call only. */
const ALLOWED_PERMISSION_MODES = new Set(["default", "acceptEdits", "plan", "dontAsk"]);

/** Why a task may not ask for this permission mode, or undefined. */
function permissionModeProblem(mode: string | undefined): string | undefined {
  return mode && !ALLOWED_PERMISSION_MODES.has(mode) ? `is not allowed for tasks; allowed: ${[...ALLOWED_PERMISSION_MODES].join(", ")}` : undefined;
}

/** The prompt as the one stream-json message on claude's stdin, delivered as written (no @file, no /command). */
function composedPrompt(prompt: string): string {
  return `${JSON.stringify({ type: "user", session_id: "", message: { role: "user", content: [{ type: "text", text: prompt }] }, parent_tool_use_id: null, client_composed: true })}\n`;
}

function describeTool(name: string, input: unknown): string {
  const text = JSON.stringify(input ?? {});
  return `${name} ${text.length > 300 ? `${text.slice(0, 300)}…` : text}`;
}

export class ClaudeCodeExecutor implements TaskExecutor<ClaudeCodeTask> {
  readonly type = "claude-code";
  readonly requestSchema = ClaudeCodeTaskRequestSchema;
  readonly defaultPriority = 40;
  /** Its result's costUsd counts toward the spend and the daily budget (spend-budget.ts). */
  readonly reportsCost = true;
  private readonly starts: StartsPerMinute;

  constructor(private readonly options: ClaudeCodeExecutorOptions) {
    this.starts = new StartsPerMinute(options.requestsPerMinute);
  }

  /** Refused when accepted: a permission mode or flag not allowed, a project or --add-dir outside the roots. */
  async admit(task: ClaudeCodeTask): Promise<FieldError[]> {
    const problems: FieldError[] = [];
    const mode = permissionModeProblem(task.permissionMode);
    if (mode) problems.push({ field: "permissionMode", value: describeValue(task.permissionMode), message: mode });
    let directories: string[] = [];
    try {
      directories = checkAdditionalFlags(task.additionalFlags).directories;
    } catch (error) {
      problems.push({ field: "additionalFlags", value: describeValue(task.additionalFlags), message: (error as Error).message.replace(/^additionalFlags: /, "") });
    }
    for (const directory of directories) {
      const problem = await workingDirectoryProblem(directory, this.options.allowedRoots);
      if (problem) problems.push({ field: "additionalFlags", value: describeValue(directory), message: `--add-dir ${problem}` });
    }
    const project = await workingDirectoryProblem(task.projectPath, this.options.allowedRoots);
    if (project) problems.push({ field: "projectPath", value: describeValue(task.projectPath ?? "."), message: project });
    const tools = allowedToolsProblem(task.allowedTools, this.toolPolicy);
    if (tools) problems.push({ field: "allowedTools", value: describeValue(task.allowedTools), message: tools });
    problems.push(...claudeLimitsProblems(task.limits, this.options.limits, this.options.cgroupRoot));
    return problems;
  }

  private get toolPolicy() {
    return { commandAllowlist: this.options.commandAllowlist ?? [], toolAllowlist: this.options.toolAllowlist ?? [] };
  }

  async execute(task: ClaudeCodeTask, ctx: ExecutionContext): Promise<JsonObject> {
    // Everything a document could get wrong is refused before anything starts.
    if (!this.options.credentials.apiKey) throw fatal("auth", "no Anthropic API key: set ANTHROPIC_API_KEY for the agent to run Claude tasks");
    const binary = locateClaudeBinary(this.options.claudePath);
    if (!binary) throw fatal("claude_not_found", "the claude binary was not found: install dependencies with optional packages, or set CLAUDE_CLI_PATH");
    const mode = permissionModeProblem(task.permissionMode);
    if (mode) throw fatal("permission_mode_not_allowed", `permissionMode '${task.permissionMode}' ${mode}`);
    const tools = allowedToolsProblem(task.allowedTools, this.toolPolicy);
    if (tools) throw fatal("tool_not_allowed", `allowedTools: ${tools}`);
    // Above the agent's (lowered since the task was accepted): the agent's, never more.
    const limits = effectiveLimits(this.options.limits, task.limits);
    const tooSmall = claudeRoomProblem(limits);
    if (tooSmall) throw fatal("limits_too_low", tooSmall);
    const flags = checkAdditionalFlags(task.additionalFlags);
    // The CLI would resolve a relative --add-dir against the project, not the root we checked: pass the checked real path.
    for (const [n, index] of flags.directoryIndexes.entries()) flags.argv[index] = await resolveWorkingDirectory(flags.directories[n] ?? "", this.options.allowedRoots);
    const cwd = await resolveWorkingDirectory(task.projectPath, this.options.allowedRoots);
    const built = await buildTaskPrompt(this.options, task);
    const prompt = this.options.projectSettings ? built.prompt : withProjectMemory(built.prompt, await readProjectMemory(cwd, this.options.allowedRoots));
    const skipped = this.options.projectSettings ? [] : await skippedProjectSettings(cwd);
    if (skipped.length > 0) ctx.progress({ kind: "notice", message: `not loaded: the project's ${skipped.join(", ")} (permissions, hooks, env are code from whoever wrote the project); CLAUDE_CODE_PROJECT_SETTINGS=true loads them` });

    const budget = runBudget(task.maxBudgetUsd, this.options.defaultMaxBudgetUsd, ctx);
    await awaitStartBudget(this.starts, ctx);

    const home = runHomePath(this.options.homesDir, task.id, ctx.attempt);
    const model = task.model ?? this.options.defaultModel;
    // The prompt goes in as one stream-json user message marked client_composed: claude then takes
    // it as written. Sent as plain text, an "@/etc/passwd" in a document's prompt was expanded into
    // the conversation (any file, outside the roots too) and "/init" ran as a command (session 14).
    const args = ["-p", "--input-format", "stream-json", "--output-format", "stream-json", "--verbose", "--model", model];
    if (task.maxTurns !== undefined) args.push("--max-turns", String(task.maxTurns));
    if (budget) args.push("--max-budget-usd", String(budget.usd));
    if (task.allowedTools && task.allowedTools.length > 0) args.push("--allowedTools", scopeFileTools(task.allowedTools, await realRoots(this.options.allowedRoots)).join(","));
    if (task.permissionMode) args.push("--permission-mode", task.permissionMode);
    // The project's .claude/settings would be code run with the API key at hand (project-memory.ts).
    if (!this.options.projectSettings) args.push("--setting-sources", "user");
    args.push(...flags.argv);

    let result: Extract<StreamEvent, { kind: "result" }>["message"] | undefined;
    let apiRetry: Extract<StreamEvent, { kind: "api_retry" }>["message"] | undefined;
    let sessionModel: string | undefined;
    let sessionId: string | undefined;
    const notJson: string[] = [];
    // The CLI's own retry is where we stop (CLAUDE_CODE_MAX_RETRIES=1 only makes it say so): its
    // api_retry line carries the status and, when the server sent one, the retry-after.
    const stop = new AbortController();
    const forward = () => stop.abort(ctx.signal.reason);
    ctx.signal.addEventListener("abort", forward, { once: true });
    const parser = new StreamJsonParser((event) => {
      switch (event.kind) {
        case "init":
          sessionModel = event.message.model;
          sessionId = event.message.session_id;
          ctx.progress({ kind: "session", message: `claude ${event.message.claude_code_version ?? ""} session ${event.message.session_id ?? ""}`.trim() });
          break;
        case "assistant":
          for (const block of event.message.message.content) {
            if (block.type === "text" && block.text) {
              ctx.progress({ kind: "assistant_text", message: block.text });
              ctx.output({ stream: "stdout", data: `${block.text}\n` });
            } else if (block.type === "tool_use" && block.name) {
              ctx.progress({ kind: "tool_use", message: describeTool(block.name, block.input), data: { tool: block.name } });
              ctx.output({ stream: "stdout", data: `[tool] ${describeTool(block.name, block.input)}\n` });
            }
          }
          break;
        case "api_retry":
          apiRetry = event.message;
          stop.abort(new TaskAbortReason("cancel"));
          break;
        case "result":
          result = event.message;
          break;
        case "not_json":
          if (notJson.length < 50) notJson.push(event.line);
          break;
        default:
          break;
      }
    });

    const configDir = path.join(home, ".claude");
    try {
      // A follow-up: the earlier task's conversation, resumed as a new session (claude/conversation.ts).
      const resumed = await placeConversation(task.continueFrom, ctx, configDir);
      if (resumed) args.push("--resume", resumed.sessionId, "--fork-session");
      const run = await runProcess({
        command: binary,
        args,
        cwd,
        env: await claudeEnvironment(home, this.options.credentials, this.options.agentEnv, this.options.user),
        input: composedPrompt(prompt),
        signal: stop.signal,
        killGraceMs: this.options.killGraceMs,
        ...(this.options.cgroupRoot !== undefined ? { cgroupRoot: this.options.cgroupRoot } : {}),
        limits,
        user: this.options.user,
        captureBytes: this.options.captureBytes,
        onStdoutBytes: (chunk) => parser.push(chunk),
        onOutput: (stream, text) => {
          if (stream === "stderr") ctx.output({ stream, data: text });
        },
      });
      parser.end();
      const limitsUsed = limitsJson(limits);
      const transcript = await settleConversation(task.id, ctx, configDir, result?.session_id ?? sessionId);
      // Without a result line (a cancel, a timeout, a crash) what the run cost is what claude last wrote.
      const spent: JsonObject = transcript.sessionCostUsd !== undefined ? { totalCostUsd: ownCost(transcript.sessionCostUsd, resumed) } : {};
      const base: JsonObject = { ...transcript.fields, ...spent, exitCode: run.exitCode, durationMs: run.durationMs, model: sessionModel ?? model, pid: run.pid ?? null, ...(run.cpu ? { cpu: { ...run.cpu } } : {}), ...(limitsUsed ? { limits: limitsUsed } : {}), ...(run.totalsHit ? { totalsHit: { ...run.totalsHit } } : {}), ...(this.options.user ? { runAs: this.options.user.name } : {}), ...(budget ? { maxBudgetUsd: budget.usd } : {}) };
      const confinement = confinementFailure(run.spawnError);
      if (confinement) throw fatal(confinement, `claude was not started: ${run.spawnError?.message ?? ""}`);
      if (run.spawnError) throw fatal("claude_not_found", `claude could not be started (${binary}): ${run.spawnError.message}`);

      const cause = abortCauseOf(ctx.signal);
      if (cause === "timeout") throw retryable("timeout", `timed out after ${run.durationMs} ms; claude's process group killed`, { result: { ...base, timedOut: true } });
      if (cause !== undefined) throw fatal(cause === "cancel" ? "cancelled" : "shutdown", `stopped (${cause}); claude's process group killed`, { result: { ...base, cancelled: true } });
      if (apiRetry) {
        const status = apiRetry.error_status;
        throw classifyApiFailure({ status, text: apiRetry.error ?? "API error", retryAfterMs: serverRetryAfterMs(apiRetry.retry_delay_ms), result: { ...base, apiErrorStatus: status ?? null }, transient: true });
      }
      if (!result) {
        const stderrTail = run.stderr.text.slice(-2000).trim() || notJson.join("\n").slice(-2000);
        if (/not logged in|api key/i.test(stderrTail)) throw classifyApiFailure({ status: 401, text: stderrTail, result: base });
        const stop = limitStop(run, limits);
        if (stop) throw fatal(stop.code, `claude ${stop.message}`, { result: base });
        throw fatal("claude_crashed", `claude exited with ${run.exitCode ?? run.signal} and no result${limitsInForce(limits)}: ${stderrTail || "(no output)"}`, { result: base });
      }
      const json: JsonObject = {
        ...base,
        text: result.result ?? "",
        isError: result.is_error,
        subtype: result.subtype,
        numTurns: result.num_turns ?? null,
        sessionId: result.session_id ?? null,
        // A resumed session reports the whole conversation's cost: the run's own is counted.
        totalCostUsd: result.total_cost_usd == null ? null : ownCost(result.total_cost_usd, resumed),
        ...(resumed && result.total_cost_usd != null ? { conversationCostUsd: result.total_cost_usd } : {}),
        usage: (result.usage ?? {}) as JsonValue,
        permissionDenials: (result.permission_denials ?? []) as JsonValue,
      };
      if (result.subtype === "error_max_turns") throw fatal("max_turns", `claude stopped at the turn limit (${task.maxTurns ?? "default"}) before finishing`, { result: json });
      if (result.subtype === "error_max_budget_usd") throw budgetStop(budget, json);
      if (result.is_error) {
        throw classifyApiFailure({ status: result.api_error_status, text: result.result ?? result.subtype, result: json, transient: result.api_error === "connection_failed" });
      }
      if (run.exitCode !== 0) throw fatal("claude_error", `claude exited with code ${run.exitCode}: ${run.stderr.text.slice(-500)}`, { result: json });
      return json;
    } finally {
      ctx.signal.removeEventListener("abort", forward);
      await rm(home, { recursive: true, force: true }).catch(() => undefined);
    }
  }
}
