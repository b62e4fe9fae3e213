/**
 * What a Claude agent run says, message by message (the Agent SDK yields the same JSON the CLI prints
 * with stream-json, so the stream-json schemas are reused): assistant text, tool uses (MCP tool name
 * and a bounded input summary), tool results, the api_retry line the run stops at, and the result.
 */
import { z } from "zod";
import type { ExecutionContext } from "../executor.js";
import { ApiRetryMessage, AssistantMessage, InitMessage, ResultMessage, UserMessage, type StreamEvent } from "./stream-json.js";

const SUMMARY_CHARS = 300;

function summarize(value: unknown, max = SUMMARY_CHARS): string {
  const text = typeof value === "string" ? value : (JSON.stringify(value ?? {}) ?? "");
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

const ToolUseBlock = z.looseObject({ type: z.literal("tool_use"), id: z.string(), name: z.string(), input: z.unknown().optional() });
const ToolResultBlock = z.looseObject({ type: z.literal("tool_result"), tool_use_id: z.string(), is_error: z.boolean().optional(), content: z.unknown().optional() });
export const McpServerState = z.looseObject({ name: z.string(), status: z.string(), error: z.string().optional() });
const TextBlocks = z.array(z.looseObject({ text: z.string().optional() }));
const AgentInitMessage = InitMessage.extend({ mcp_servers: z.array(McpServerState).optional() });

/** One SDK message, classified with the stream-json schemas. */
export function classifyMessage(message: unknown): StreamEvent {
  for (const [kind, schema] of [["init", InitMessage], ["assistant", AssistantMessage], ["user", UserMessage], ["api_retry", ApiRetryMessage], ["result", ResultMessage]] as const) {
    const parsed = schema.safeParse(message);
    if (parsed.success) return { kind, message: parsed.data } as StreamEvent;
  }
  return { kind: "other", message: typeof message === "object" && message !== null ? (message as Record<string, unknown>) : { value: String(message) } };
}

/** Text of a tool result's content (a string, or text blocks). */
function resultText(content: unknown): string {
  if (typeof content === "string") return content;
  const blocks = TextBlocks.safeParse(content);
  return blocks.success ? blocks.data.map((block) => block.text ?? "").join("") : "";
}

export interface ToolCall {
  name: string;
  ok: boolean;
}

export type RunResult = Extract<StreamEvent, { kind: "result" }>["message"];
export type ApiRetry = Extract<StreamEvent, { kind: "api_retry" }>["message"];

/** Collects a run's state from its messages and reports them as progress and output. */
export class AgentRunLog {
  result: RunResult | undefined;
  apiRetry: ApiRetry | undefined;
  sessionId: string | undefined;
  model: string | undefined;
  private readonly calls: { id: string; name: string; ok?: boolean }[] = [];

  constructor(private readonly ctx: Pick<ExecutionContext, "progress" | "output">) {}

  /** Handles one message; returns "stop" when the run must end here (the CLI is about to retry). */
  handle(message: unknown): "stop" | undefined {
    const event = classifyMessage(message);
    switch (event.kind) {
      case "init": {
        const init = AgentInitMessage.safeParse(event.message);
        this.sessionId = event.message.session_id;
        this.model = event.message.model;
        const servers = init.success ? (init.data.mcp_servers ?? []).map((s) => `${s.name}: ${s.status}`).join(", ") : "";
        this.ctx.progress({ kind: "session", message: `claude ${event.message.claude_code_version ?? ""} session ${event.message.session_id ?? ""}${servers ? ` (MCP ${servers})` : ""}`.replace(/\s+/g, " ").trim() });
        return undefined;
      }
      case "assistant":
        for (const block of event.message.message.content) {
          if (block.type === "text" && block.text) {
            this.ctx.progress({ kind: "assistant_text", message: block.text });
            this.ctx.output({ stream: "stdout", data: `${block.text}\n` });
            continue;
          }
          const use = ToolUseBlock.safeParse(block);
          if (!use.success) continue;
          this.calls.push({ id: use.data.id, name: use.data.name });
          const line = `${use.data.name} ${summarize(use.data.input)}`;
          const mcp = /^mcp__(.+?)__(.+)$/.exec(use.data.name);
          this.ctx.progress({ kind: "tool_use", message: line, data: { tool: use.data.name, ...(mcp ? { mcpServer: mcp[1] ?? "", mcpTool: mcp[2] ?? "" } : {}) } });
          this.ctx.output({ stream: "stdout", data: `[tool] ${line}\n` });
        }
        return undefined;
      case "user": {
        const content = event.message.message.content;
        if (typeof content === "string") return undefined;
        for (const block of content) {
          const parsed = ToolResultBlock.safeParse(block);
          if (!parsed.success) continue;
          const call = this.calls.find((c) => c.id === parsed.data.tool_use_id);
          const ok = parsed.data.is_error !== true;
          if (call) call.ok = ok;
          const text = summarize(resultText(parsed.data.content));
          const name = call?.name ?? parsed.data.tool_use_id;
          this.ctx.progress({ kind: "tool_result", message: `${name} ${ok ? "ok" : "failed"}: ${text}`, data: { tool: name, ok } });
          this.ctx.output({ stream: "stdout", data: `[tool result] ${name} ${ok ? "ok" : "error"}: ${text}\n` });
        }
        return undefined;
      }
      case "api_retry":
        // One retry policy: the task manager's. The CLI's api_retry line carries the status and the
        // server's retry-after; the run stops right here.
        this.apiRetry = event.message;
        return "stop";
      case "result":
        this.result = event.message;
        return undefined;
      default:
        return undefined;
    }
  }

  /** Every tool use of the run; one without a result (the run stopped first) counts as not ok. */
  toolCalls(): ToolCall[] {
    return this.calls.map((c) => ({ name: c.name, ok: c.ok ?? false }));
  }
}
