/**
 * Runs a Claude Code task on the real `claude` CLI: print mode, stream-json out, the prompt (with
 * the source document's context) on stdin so no length or quoting can break it, in the task's
 * project directory inside the allowed roots, with its own HOME and the API key only it sees.
 * Errors are read the way the CLI really reports them (subtype stays "success" on API errors).
 */
import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import path from "node:path";
import { ClaudeCodeTaskRequestSchema, type ClaudeCodeTask, type JsonObject, type JsonValue } from "../types.js";
import { abortCauseOf, fatal, retryable, TaskAbortReason, type ExecutionContext, type TaskExecutionError, type TaskExecutor } from "./executor.js";
import { runProcess } from "./run-process.js";
import { resolveWorkingDirectory } from "./working-directory.js";
import { claudeEnvironment, type ClaudeCredentials } from "./claude/claude-environment.js";
import type { DocumentContextProvider } from "./claude/document-context.js";
import { checkAdditionalFlags } from "./claude/flag-allowlist.js";
import { locateClaudeBinary } from "./claude/locate-claude-binary.js";
import { defaultPromptTemplate, type PromptTemplate } from "./claude/prompt-template.js";
import { StartsPerMinute } from "./claude/rate-limiter.js";
import { StreamJsonParser, type StreamEvent } from "./claude/stream-json.js";

export interface ClaudeCodeExecutorOptions {
  /** CLAUDE_CLI_PATH; default: the binary the pinned Agent SDK ships. */
  claudePath?: string | undefined;
  credentials: ClaudeCredentials;
  defaultModel: string;
  allowedRoots: readonly string[];
  /** Per-run homes go under here (TASK_DATA_DIR/claude-homes). */
  homesDir: string;
  killGraceMs: number;
  captureBytes: number;
  requestsPerMinute: number;
  documentContext?: DocumentContextProvider | undefined;
  promptTemplate?: PromptTemplate;
  agentEnv?: Readonly<Record<string, string | undefined>>;
}

/** Permission modes a document may ask for; bypassing permissions is the agent owner's call only. */
const ALLOWED_PERMISSION_MODES = new Set(["default", "acceptEdits", "plan", "dontAsk"]);

function describeTool(name: string, input: unknown): string {
  const text = JSON.stringify(input ?? {});
  return `${name} ${text.length > 300 ? `${text.slice(0, 300)}…` : text}`;
}

/** An API failure as the CLI reports it, classified for the task manager. */
export function classifyApiFailure(status: number | null | undefined, text: string, retryAfterMs?: number, result?: JsonObject): TaskExecutionError {
  const extra = { ...(retryAfterMs !== undefined ? { retryAfterMs } : {}), ...(result ? { result } : {}) };
  if (status === 401 || status === 403 || /invalid api key|not logged in|authentication/i.test(text)) {
    return fatal("auth", `the Anthropic API refused the credentials (${status ?? "no status"}): ANTHROPIC_API_KEY is missing or wrong — ${text}`, extra);
  }
  if (status === 429) return retryable("rate_limited", `rate limited by the Anthropic API: ${text}`, extra);
  if (status === 529 || /overloaded/i.test(text)) return retryable("overloaded", `the Anthropic API is overloaded: ${text}`, extra);
  if (status !== null && status !== undefined && status >= 500) return retryable("api_error", `the Anthropic API failed (${status}): ${text}`, extra);
  return fatal("claude_error", `claude reported an error: ${text}`, extra);
}

export class ClaudeCodeExecutor implements TaskExecutor<ClaudeCodeTask> {
  readonly type = "claude-code";
  readonly requestSchema = ClaudeCodeTaskRequestSchema;
  readonly defaultPriority = 40;
  private readonly starts: StartsPerMinute;

  constructor(private readonly options: ClaudeCodeExecutorOptions) {
    this.starts = new StartsPerMinute(options.requestsPerMinute);
  }

  async execute(task: ClaudeCodeTask, ctx: ExecutionContext): Promise<JsonObject> {
    // Everything a document could get wrong is refused before anything starts.
    if (!this.options.credentials.apiKey) throw fatal("auth", "no Anthropic API key: set ANTHROPIC_API_KEY for the agent to run Claude tasks");
    const binary = locateClaudeBinary(this.options.claudePath);
    if (!binary) throw fatal("claude_not_found", "the claude binary was not found: install dependencies with optional packages, or set CLAUDE_CLI_PATH");
    if (task.permissionMode && !ALLOWED_PERMISSION_MODES.has(task.permissionMode)) {
      throw fatal("permission_mode_not_allowed", `permissionMode '${task.permissionMode}' is not allowed for tasks; allowed: ${[...ALLOWED_PERMISSION_MODES].join(", ")}`);
    }
    const flags = checkAdditionalFlags(task.additionalFlags);
    for (const dir of flags.directories) await resolveWorkingDirectory(dir, this.options.allowedRoots);
    const cwd = await resolveWorkingDirectory(task.projectPath, this.options.allowedRoots);
    const document = task.source && this.options.documentContext ? await this.options.documentContext.getDocumentContext(task.source) : undefined;
    const prompt = (this.options.promptTemplate ?? defaultPromptTemplate)({ title: task.title, instructions: task.instructions, prompt: task.prompt, document });

    await this.starts.acquire(ctx.signal).catch(() => undefined);
    if (ctx.signal.aborted) throw fatal(abortCauseOf(ctx.signal) === "timeout" ? "timeout" : "cancelled", "stopped before claude started");

    const home = path.join(this.options.homesDir, `${task.id}-${ctx.attempt}-${randomUUID().slice(0, 8)}`);
    const model = task.model ?? this.options.defaultModel;
    const args = ["-p", "--output-format", "stream-json", "--verbose", "--model", model];
    if (task.maxTurns !== undefined) args.push("--max-turns", String(task.maxTurns));
    if (task.allowedTools && task.allowedTools.length > 0) args.push("--allowedTools", task.allowedTools.join(","));
    if (task.permissionMode) args.push("--permission-mode", task.permissionMode);
    args.push(...flags.argv);

    let result: Extract<StreamEvent, { kind: "result" }>["message"] | undefined;
    let apiRetry: Extract<StreamEvent, { kind: "api_retry" }>["message"] | undefined;
    let sessionModel: string | undefined;
    const notJson: string[] = [];
    // Stopping on the CLI's own retry: the delay it reports is the server's retry-after.
    const stop = new AbortController();
    const forward = () => stop.abort(ctx.signal.reason);
    ctx.signal.addEventListener("abort", forward, { once: true });
    const parser = new StreamJsonParser((event) => {
      switch (event.kind) {
        case "init":
          sessionModel = event.message.model;
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

    try {
      const run = await runProcess({
        command: binary,
        args,
        cwd,
        env: await claudeEnvironment(home, this.options.credentials, this.options.agentEnv),
        input: prompt,
        signal: stop.signal,
        killGraceMs: this.options.killGraceMs,
        captureBytes: this.options.captureBytes,
        onStdoutBytes: (chunk) => parser.push(chunk),
        onOutput: (stream, text) => {
          if (stream === "stderr") ctx.output({ stream, data: text });
        },
      });
      parser.end();
      const base: JsonObject = { exitCode: run.exitCode, durationMs: run.durationMs, model: sessionModel ?? model, pid: run.pid ?? null };
      if (run.spawnError) throw fatal("claude_not_found", `claude could not be started (${binary}): ${run.spawnError.message}`);

      const cause = abortCauseOf(ctx.signal);
      if (cause === "timeout") throw retryable("timeout", `timed out after ${run.durationMs} ms; claude's process group killed`, { result: { ...base, timedOut: true } });
      if (cause !== undefined) throw fatal(cause === "cancel" ? "cancelled" : "shutdown", `stopped (${cause}); claude's process group killed`, { result: { ...base, cancelled: true } });
      if (apiRetry) {
        throw classifyApiFailure(apiRetry.error_status, apiRetry.error ?? "API error", apiRetry.retry_delay_ms);
      }
      if (!result) {
        const stderrTail = run.stderr.text.slice(-2000).trim() || notJson.join("\n").slice(-2000);
        if (/not logged in|api key/i.test(stderrTail)) throw classifyApiFailure(401, stderrTail);
        throw fatal("claude_crashed", `claude exited with ${run.exitCode ?? run.signal} and no result: ${stderrTail || "(no output)"}`, { result: base });
      }
      const json: JsonObject = {
        ...base,
        text: result.result ?? "",
        isError: result.is_error,
        subtype: result.subtype,
        numTurns: result.num_turns ?? null,
        sessionId: result.session_id ?? null,
        totalCostUsd: result.total_cost_usd ?? null,
        usage: (result.usage ?? {}) as JsonValue,
        permissionDenials: (result.permission_denials ?? []) as JsonValue,
      };
      if (result.subtype === "error_max_turns") throw fatal("max_turns", `claude stopped at the turn limit (${task.maxTurns ?? "default"}) before finishing`, { result: json });
      if (result.is_error) {
        throw classifyApiFailure(result.api_error_status, result.result ?? result.subtype, undefined, json);
      }
      if (run.exitCode !== 0) throw fatal("claude_error", `claude exited with code ${run.exitCode}: ${run.stderr.text.slice(-500)}`, { result: json });
      return json;
    } finally {
      ctx.signal.removeEventListener("abort", forward);
      await rm(home, { recursive: true, force: true }).catch(() => undefined);
    }
  }
}
