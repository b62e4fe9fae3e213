/**
 * A transcript as claude writes it (JSON lines; the shapes as the pinned binary wrote them in the
 * follow-up tests) read as turns: what was asked, answered, the tools used and what they returned;
 * bookkeeping lines, meta lines and a line cut short by a killed claude left out; long texts cut;
 * only the last turns of a long conversation.
 */
import { describe, expect, it } from "vitest";
import { conversationTurns, MAX_TURNS } from "../src/tasks/conversation-turns.js";

const line = (entry: Record<string, unknown>) => JSON.stringify(entry);
const user = (content: unknown, extra: Record<string, unknown> = {}) => line({ type: "user", timestamp: "2026-12-07T06:00:00.000Z", message: { role: "user", content }, ...extra });
const assistant = (content: unknown) => line({ type: "assistant", timestamp: "2026-12-07T06:00:01.000Z", message: { role: "assistant", content } });

describe("a kept conversation's turns", () => {
  it("reads what was asked and answered, the tools and their results, and nothing else", () => {
    const transcript = Buffer.from([
      line({ type: "queue-operation", operation: "enqueue" }),
      line({ type: "attachment", attachment: { type: "skill_listing", content: "…" } }),
      user([{ type: "text", text: "Fix the tests." }]),
      user("<command-name>/init</command-name>", { isMeta: true }),
      assistant([{ type: "text", text: "Running them." }, { type: "tool_use", id: "t1", name: "Bash", input: { command: "npm test" } }]),
      user([{ type: "tool_result", tool_use_id: "t1", is_error: true, content: [{ type: "text", text: "1 failing" }] }]),
      line({ type: "cost-state", sessionId: "s", totalCostUSD: 0.01 }),
      assistant([{ type: "text", text: "x".repeat(5000) }]),
      '{"type":"assistant","message":{"content":[{"type":"te', // cut short
    ].join("\n"));
    const { turns, total } = conversationTurns(transcript);
    expect(total).toBe(4);
    expect(turns).toEqual([
      { role: "user", at: "2026-12-07T06:00:00.000Z", blocks: [{ kind: "text", text: "Fix the tests." }] },
      { role: "assistant", at: "2026-12-07T06:00:01.000Z", blocks: [{ kind: "text", text: "Running them." }, { kind: "tool_use", name: "Bash", input: '{"command":"npm test"}' }] },
      { role: "user", at: "2026-12-07T06:00:00.000Z", blocks: [{ kind: "tool_result", isError: true, text: "1 failing" }] },
      { role: "assistant", at: "2026-12-07T06:00:01.000Z", blocks: [{ kind: "text", text: `${"x".repeat(4000)}…` }] },
    ]);
  });

  it("gives the last turns of a long conversation, saying how many there were", () => {
    const lines = Array.from({ length: MAX_TURNS + 20 }, (_, i) => user([{ type: "text", text: `turn ${i}` }]));
    const { turns, total } = conversationTurns(Buffer.from(lines.join("\n")));
    expect(total).toBe(MAX_TURNS + 20);
    expect(turns).toHaveLength(MAX_TURNS);
    expect(turns[0]?.blocks[0]).toEqual({ kind: "text", text: "turn 20" });
  });
});
