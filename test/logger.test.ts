import { describe, expect, it } from "vitest";
import { createLogger } from "../src/logger.js";

function capture() {
  const lines: string[] = [];
  return { lines, destination: { write: (line: string) => void lines.push(line) } };
}

describe("logger", () => {
  it("writes one JSON line per call and redacts secrets by field and by value", () => {
    const { lines, destination } = capture();
    const logger = createLogger({ level: "info", destination, secrets: ["sk-ant-supersecret-123", "api-token-abcdefghijkl"] });
    logger.info({ taskId: "t1", headers: { authorization: "Bearer api-token-abcdefghijkl" }, env: { ANTHROPIC_API_KEY: "sk-ant-supersecret-123" } }, "task started");
    logger.warn({ stderr: "request failed with key sk-ant-supersecret-123" }, "claude said api-token-abcdefghijkl");
    expect(lines).toHaveLength(2);
    const text = lines.join("");
    expect(text).not.toContain("sk-ant-supersecret-123");
    expect(text).not.toContain("api-token-abcdefghijkl");
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(first).toMatchObject({ msg: "task started", taskId: "t1", level: 30 });
    expect(text).toContain("[REDACTED]");
  });

  it("respects the level", () => {
    const { lines, destination } = capture();
    const logger = createLogger({ level: "warn", destination });
    logger.info("hidden");
    logger.error("shown");
    expect(lines).toHaveLength(1);
  });
});
