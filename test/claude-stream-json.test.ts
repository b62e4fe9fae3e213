import { describe, expect, it } from "vitest";
import { checkAdditionalFlags } from "../src/tasks/executors/claude/flag-allowlist.js";
import { boundedJson, defaultPromptTemplate } from "../src/tasks/executors/claude/prompt-template.js";
import { StartsPerMinute } from "../src/tasks/executors/claude/rate-limiter.js";
import { StreamJsonParser, type StreamEvent } from "../src/tasks/executors/claude/stream-json.js";
import { serverRetryAfterMs } from "../src/tasks/executors/claude/api-errors.js";
import { TaskExecutionError } from "../src/tasks/executors/executor.js";

const encode = (text: string) => new TextEncoder().encode(text);

describe("stream-json parsing", () => {
  it("joins lines split across chunks, keeps non-JSON lines aside and passes unknown types on", () => {
    const events: StreamEvent[] = [];
    const parser = new StreamJsonParser((e) => events.push(e));
    const result = JSON.stringify({ type: "result", subtype: "success", is_error: false, result: "hé ✓", num_turns: 1, extra_field: true });
    const bytes = encode(`${JSON.stringify({ type: "system", subtype: "init", session_id: "s1" })}\nnot json at all\n{"type":"brand_new","x":1}\n${result}`);
    // Split mid-line and mid-character.
    parser.push(bytes.slice(0, 10));
    parser.push(bytes.slice(10, bytes.length - 5));
    parser.push(bytes.slice(bytes.length - 5));
    parser.end();
    expect(events.map((e) => e.kind)).toEqual(["init", "not_json", "other", "result"]);
    const last = events[3];
    expect(last?.kind === "result" && last.message.result).toBe("hé ✓");
  });
});

describe("claude flag allow-list", () => {
  it("accepts listed flags in both forms and refuses the rest by name", () => {
    expect(checkAdditionalFlags(["--append-system-prompt", "be brief", "--fallback-model=claude-haiku"]).argv).toEqual(["--append-system-prompt", "be brief", "--fallback-model", "claude-haiku"]);
    expect(checkAdditionalFlags(["--add-dir", "/srv/extra"]).directories).toEqual(["/srv/extra"]);
    for (const bad of [["--dangerously-skip-permissions"], ["--settings", "x.json"], ["--mcp-config=evil.json"], ["--append-system-prompt"]]) {
      expect(() => checkAdditionalFlags(bad)).toThrow(TaskExecutionError);
    }
  });
});

describe("prompt template", () => {
  it("bounds a large document state and keeps the task's own text whole", () => {
    const state = { items: Array.from({ length: 5000 }, (_, i) => `item ${i}`) };
    const prompt = defaultPromptTemplate({ title: "T", instructions: "Do it carefully", prompt: "The actual ask", document: { id: "d1", documentType: "x/y", name: "Big", state } });
    expect(prompt.length).toBeLessThan(9000);
    expect(prompt).toContain("more characters of the document state omitted");
    expect(prompt.endsWith("The actual ask")).toBe(true);
    expect(boundedJson({ a: 1 })).toBe('{\n  "a": 1\n}');
  });
});

describe("Claude requests-per-minute budget", () => {
  it("lets the budget through at once, makes the next start wait for the window, and stops waiting on abort", async () => {
    const limiter = new StartsPerMinute(2, 400);
    const never = new AbortController().signal;
    const start = Date.now();
    await limiter.acquire(never);
    await limiter.acquire(never);
    expect(Date.now() - start).toBeLessThan(300);
    const waits: number[] = [];
    await limiter.acquire(never, (ms) => waits.push(ms));
    expect(Date.now() - start).toBeGreaterThanOrEqual(390);
    expect(waits).toHaveLength(1);

    await limiter.acquire(never); // the window holds two starts again
    const controller = new AbortController();
    const waiting = limiter.acquire(controller.signal);
    setTimeout(() => controller.abort(new Error("cancelled")), 20);
    await expect(waiting).rejects.toThrow("cancelled");
  });
});

describe("retry-after read back from the CLI's api_retry delay", () => {
  it("takes a second or more as the server's, and the CLI's own ~0.5 s backoff as none", () => {
    expect(serverRetryAfterMs(3306)).toBe(3306);
    expect(serverRetryAfterMs(1000)).toBe(1000);
    expect(serverRetryAfterMs(609)).toBeUndefined();
    expect(serverRetryAfterMs(undefined)).toBeUndefined();
  });
});
