/**
 * Reading `claude --output-format stream-json --verbose` line by line: partial lines are held
 * until complete, lines that are not JSON are kept aside (they end up in the error text), and
 * message types we do not know are passed on untouched. Shapes are checked loosely with zod:
 * key order and extra fields differ between CLI versions.
 */
import { z } from "zod";

const ContentBlock = z.looseObject({ type: z.string(), text: z.string().optional(), name: z.string().optional(), input: z.unknown().optional(), content: z.unknown().optional() });

export const AssistantMessage = z.looseObject({ type: z.literal("assistant"), message: z.looseObject({ content: z.array(ContentBlock).default([]), model: z.string().optional() }) });
export const UserMessage = z.looseObject({ type: z.literal("user"), message: z.looseObject({ content: z.union([z.string(), z.array(ContentBlock)]).default([]) }) });
export const InitMessage = z.looseObject({ type: z.literal("system"), subtype: z.literal("init"), session_id: z.string().optional(), model: z.string().optional(), claude_code_version: z.string().optional() });
export const ApiRetryMessage = z.looseObject({ type: z.literal("system"), subtype: z.literal("api_retry"), attempt: z.number().optional(), retry_delay_ms: z.number().optional(), error_status: z.number().nullable().optional(), error: z.string().optional() });
export const ResultMessage = z.looseObject({
  type: z.literal("result"),
  subtype: z.string(),
  is_error: z.boolean().default(false),
  api_error_status: z.number().nullable().optional(),
  /** e.g. "connection_failed" (2.1.331); absent in older versions. */
  api_error: z.string().nullable().optional(),
  result: z.string().optional(),
  num_turns: z.number().optional(),
  session_id: z.string().optional(),
  total_cost_usd: z.number().optional(),
  usage: z.record(z.string(), z.unknown()).optional(),
  permission_denials: z.array(z.unknown()).optional(),
  duration_ms: z.number().optional(),
  terminal_reason: z.string().optional(),
});

export type StreamEvent =
  | { kind: "init"; message: z.infer<typeof InitMessage> }
  | { kind: "assistant"; message: z.infer<typeof AssistantMessage> }
  | { kind: "user"; message: z.infer<typeof UserMessage> }
  | { kind: "api_retry"; message: z.infer<typeof ApiRetryMessage> }
  | { kind: "result"; message: z.infer<typeof ResultMessage> }
  | { kind: "other"; message: Record<string, unknown> }
  | { kind: "not_json"; line: string };

export function classifyLine(line: string): StreamEvent | undefined {
  const trimmed = line.trim();
  if (trimmed.length === 0) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(trimmed);
  } catch {
    return { kind: "not_json", line: trimmed };
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return { kind: "not_json", line: trimmed };
  for (const [kind, schema] of [["init", InitMessage], ["assistant", AssistantMessage], ["user", UserMessage], ["api_retry", ApiRetryMessage], ["result", ResultMessage]] as const) {
    const parsed = schema.safeParse(json);
    if (parsed.success) return { kind, message: parsed.data } as StreamEvent;
  }
  return { kind: "other", message: json as Record<string, unknown> };
}

/** Splits a byte stream into lines (a line may arrive in several chunks) and classifies each. */
export class StreamJsonParser {
  private buffer = "";
  private readonly decoder = new TextDecoder();

  constructor(private readonly onEvent: (event: StreamEvent) => void) {}

  push(chunk: Uint8Array): void {
    this.buffer += this.decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = this.buffer.indexOf("\n")) >= 0) {
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + 1);
      const event = classifyLine(line);
      if (event) this.onEvent(event);
    }
  }

  end(): void {
    this.buffer += this.decoder.decode();
    const event = classifyLine(this.buffer);
    this.buffer = "";
    if (event) this.onEvent(event);
  }
}
