import { describe, expect, it } from "vitest";
import { hideEnvironmentValues } from "../src/http/read-only-view.js";

describe("what a read-only token is shown", () => {
  it("hides the values of every environment, at any depth, and leaves everything else as it was", () => {
    const answer = {
      templates: [{ name: "deploy", task: { type: "cli", command: "make", args: ["environment"], environment: { TOKEN: "t0p", REGION: "eu" } } }],
      task: { environment: {}, title: "environment", createdAt: "2026-12-03T00:00:00.000Z", attempts: 2, tags: ["a"], result: null },
    };
    expect(hideEnvironmentValues(answer)).toEqual({
      templates: [{ name: "deploy", task: { type: "cli", command: "make", args: ["environment"], environment: { TOKEN: "(hidden)", REGION: "(hidden)" } } }],
      task: { environment: {}, title: "environment", createdAt: "2026-12-03T00:00:00.000Z", attempts: 2, tags: ["a"], result: null },
    });
    expect(answer.templates[0]?.task.environment.TOKEN).toBe("t0p"); // the original is not changed
  });
});
