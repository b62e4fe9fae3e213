/**
 * A kept conversation as people read it (GET /api/tasks/:id/conversation, `ph-tasks
 * conversation`): the turns of claude's transcript — what was asked, what claude answered, the
 * tools it used and what they returned — without the bookkeeping lines around them (attachments,
 * request shapes, costs). Long texts are cut; only the last turns are given of a long one.
 */
import type { JsonObject } from "./types.js";

/** At most this many characters of one text, and of a tool's input or output. */
const TEXT_CHARS = 4000;
const TOOL_CHARS = 300;
/** The last this many turns of a longer conversation. */
export const MAX_TURNS = 500;

export type TurnBlock =
  | { kind: "text"; text: string }
  | { kind: "tool_use"; name: string; input: string }
  | { kind: "tool_result"; isError: boolean; text: string };

export interface ConversationTurn {
  role: "user" | "assistant";
  at: string | null;
  blocks: TurnBlock[];
}

const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text);

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return JSON.stringify(content ?? "");
  return content.map((part: { type?: unknown; text?: unknown }) => (part.type === "text" && typeof part.text === "string" ? part.text : "")).join("");
}

function blocksOf(content: unknown): TurnBlock[] {
  if (typeof content === "string") return [{ kind: "text", text: cut(content, TEXT_CHARS) }];
  if (!Array.isArray(content)) return [];
  const blocks: TurnBlock[] = [];
  for (const block of content as JsonObject[]) {
    if (block.type === "text" && typeof block.text === "string") blocks.push({ kind: "text", text: cut(block.text, TEXT_CHARS) });
    else if (block.type === "tool_use" && typeof block.name === "string") blocks.push({ kind: "tool_use", name: block.name, input: cut(JSON.stringify(block.input ?? {}), TOOL_CHARS) });
    else if (block.type === "tool_result") blocks.push({ kind: "tool_result", isError: block.is_error === true, text: cut(textOf(block.content), TOOL_CHARS) });
  }
  return blocks;
}

/** The turns of a transcript (JSON lines as claude writes them), oldest first; the last MAX_TURNS. */
export function conversationTurns(transcript: Buffer): { turns: ConversationTurn[]; total: number } {
  const turns: ConversationTurn[] = [];
  for (const line of transcript.toString("utf8").split("\n")) {
    if (!line.startsWith('{"') || !(line.includes('"type":"user"') || line.includes('"type":"assistant"'))) continue;
    let entry: { type?: unknown; isMeta?: unknown; timestamp?: unknown; message?: { content?: unknown } };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue; // a line cut short by a killed claude
    }
    if ((entry.type !== "user" && entry.type !== "assistant") || entry.isMeta === true) continue;
    const blocks = blocksOf(entry.message?.content);
    if (blocks.length > 0) turns.push({ role: entry.type, at: typeof entry.timestamp === "string" ? entry.timestamp : null, blocks });
  }
  return { turns: turns.slice(-MAX_TURNS), total: turns.length };
}
