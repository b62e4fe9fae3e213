/**
 * A local stand-in for the Anthropic Messages API, as the real `claude` CLI and the Agent SDK use
 * it: POST /v1/messages (with or without ?beta=true), always streamed as server-sent events.
 * Replies are scripted in a queue: text, tool_use blocks, errors with retry-after, delays. Every
 * request is logged with its parsed body. The one stand-in the project allows: no network here.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Reply =
  | { kind: "text"; text: string; delayMs?: number; inputTokens?: number }
  | { kind: "tool_use"; name: string; input: Record<string, unknown>; text?: string; delayMs?: number; inputTokens?: number }
  | { kind: "error"; status: number; type?: string; message?: string; retryAfterSeconds?: number }
  | { kind: "hang" };

export interface LoggedRequest {
  at: number;
  path: string;
  headers: IncomingMessage["headers"];
  body: MessagesRequest;
}

export interface MessagesRequest {
  model?: string;
  stream?: boolean;
  system?: unknown;
  messages?: { role: string; content: unknown }[];
  tools?: { name: string }[];
}

export interface StandIn {
  url: string;
  requests: LoggedRequest[];
  enqueue(...replies: Reply[]): void;
  /** Drops the replies not used yet (each test scripts its own). */
  reset(): void;
  /** All the text of the user messages of a request, flattened (prompt checks). */
  userText(request: LoggedRequest): string;
  close(): Promise<void>;
}

let nextId = 1;

function sse(res: ServerResponse, event: string, data: Record<string, unknown>): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`);
}

function streamReply(res: ServerResponse, reply: Extract<Reply, { kind: "text" | "tool_use" }>, model: string): void {
  res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", "request-id": `req_${nextId}` });
  // The usage claude prices the call by (inputTokens: a dear call, for budgets).
  const usage = { input_tokens: reply.inputTokens ?? 25, output_tokens: 12, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  sse(res, "message_start", { message: { id: `msg_${nextId++}`, type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } });
  let index = 0;
  const text = reply.kind === "text" ? reply.text : reply.text;
  if (text) {
    sse(res, "content_block_start", { index, content_block: { type: "text", text: "" } });
    sse(res, "content_block_delta", { index, delta: { type: "text_delta", text } });
    sse(res, "content_block_stop", { index });
    index++;
  }
  if (reply.kind === "tool_use") {
    sse(res, "content_block_start", { index, content_block: { type: "tool_use", id: `toolu_${nextId++}`, name: reply.name, input: {} } });
    sse(res, "content_block_delta", { index, delta: { type: "input_json_delta", partial_json: JSON.stringify(reply.input) } });
    sse(res, "content_block_stop", { index });
  }
  sse(res, "message_delta", { delta: { stop_reason: reply.kind === "tool_use" ? "tool_use" : "end_turn", stop_sequence: null }, usage });
  sse(res, "message_stop", {});
  res.end();
}

function flattenText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((block) => flattenText((block as { text?: unknown; content?: unknown }).text ?? (block as { content?: unknown }).content ?? "")).join("\n");
  return "";
}

export async function startStandIn(options: { replies?: Reply[]; fallback?: Reply } = {}): Promise<StandIn> {
  const queue: Reply[] = [...(options.replies ?? [])];
  const requests: LoggedRequest[] = [];
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      if (req.method !== "POST" || path !== "/v1/messages") {
        res.writeHead(404, { "Content-Type": "application/json" }).end(JSON.stringify({ type: "error", error: { type: "not_found_error", message: "not found" } }));
        return;
      }
      let body: MessagesRequest = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as MessagesRequest;
      } catch {
        // logged as empty
      }
      requests.push({ at: Date.now(), path, headers: req.headers, body });
      const reply = queue.shift() ?? options.fallback ?? { kind: "text", text: "ok" };
      if (reply.kind === "hang") {
        hanging.add(res);
        res.on("close", () => hanging.delete(res));
        return;
      }
      if (reply.kind === "error") {
        const headers: Record<string, string> = { "Content-Type": "application/json" };
        if (reply.retryAfterSeconds !== undefined) headers["retry-after"] = String(reply.retryAfterSeconds);
        res.writeHead(reply.status, headers).end(JSON.stringify({ type: "error", error: { type: reply.type ?? "api_error", message: reply.message ?? `error ${reply.status}` } }));
        return;
      }
      const send = () => streamReply(res, reply, body.model ?? "claude-test");
      if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    enqueue: (...replies) => queue.push(...replies),
    reset: () => void queue.splice(0),
    userText: (request) => (request.body.messages ?? []).filter((m) => m.role === "user").map((m) => flattenText(m.content)).join("\n"),
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
