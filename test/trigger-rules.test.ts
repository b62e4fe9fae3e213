import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { RulesFileSchema } from "../src/rules/rules-schema.js";
import { fillTemplate } from "../src/rules/template.js";
import { buildResultAction, buildTaskRequest, loadRulesFile, ruleMatches, RulesFileError } from "../src/rules/trigger-rules.js";

const rule = RulesFileSchema.parse({
  rules: [{
    name: "on-rename",
    on: { documentType: "powerhouse/document-model", operationType: "SET_MODEL_NAME", where: { "input.name": { matches: "^release-" } } },
    task: { type: "cli", title: "Renamed {{document.id}} to {{input.name}}", command: "echo", args: ["{{input.name}}", "--tags", "{{input.tags}}"] },
    onResult: { operation: "SET_MODEL_DESCRIPTION", input: { description: "built: {{result.stdout}}" } },
  }],
}).rules[0]!;

const context = { input: { name: "release-1", tags: ["a", "b"] }, document: { id: "doc-1", type: "powerhouse/document-model" }, operation: { id: "op-1", type: "SET_MODEL_NAME", index: 3 } };

describe("trigger rules", () => {
  it("match on document type, operation type and the input filter", () => {
    expect(ruleMatches(rule, "powerhouse/document-model", "SET_MODEL_NAME", context)).toBe(true);
    expect(ruleMatches(rule, "powerhouse/document-model", "SET_MODEL_NAME", { ...context, input: { name: "draft" } })).toBe(false);
    expect(ruleMatches(rule, "powerhouse/task", "SET_MODEL_NAME", context)).toBe(false);
    expect(ruleMatches(rule, "powerhouse/document-model", "SET_AUTHOR_NAME", context)).toBe(false);
  });

  it("fill templates from the operation without evaluating anything", () => {
    expect(buildTaskRequest(rule, context)).toEqual({ type: "cli", title: "Renamed doc-1 to release-1", command: "echo", args: ["release-1", "--tags", ["a", "b"]] });
    expect(fillTemplate("{{input.missing}} and {{constructor.name}}", context)).toBe(" and ");
    expect(fillTemplate("[{{input.constructor}}][{{input.__proto__}}][{{input.name.length}}]", context)).toBe("[][][]");
    expect(fillTemplate("{{ input.name }}", { input: { name: "$(rm -rf /)" } })).toBe("$(rm -rf /)");
  });

  it("map a completed task's result to an operation, and nothing for other outcomes", () => {
    const ended = { ...context, task: { id: "t", status: "completed", attempts: 1 }, result: { stdout: "ok" }, error: null };
    expect(buildResultAction(rule, ended)).toEqual({ type: "SET_MODEL_DESCRIPTION", input: { description: "built: ok" }, scope: "global" });
    expect(buildResultAction(rule, { ...ended, task: { ...ended.task, status: "failed" } })).toBeUndefined();
  });

  it("reject a bad rules file naming the rule and the field", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "ph-rules-"));
    const file = path.join(dir, "tasks.config.json");
    writeFileSync(file, JSON.stringify({ rules: [{ name: "Bad Name", on: { documentType: "x" }, task: { type: "cli", title: "t" } }] }));
    expect(() => loadRulesFile(file)).toThrow(RulesFileError);
    try {
      loadRulesFile(file);
    } catch (error) {
      expect((error as Error).message).toContain("rules.0.name");
      expect((error as Error).message).toContain("rules.0.on.operationType");
    }
    writeFileSync(file, "{ nope");
    expect(() => loadRulesFile(file)).toThrow(/not valid JSON/);
    expect(loadRulesFile(path.join(dir, "absent.json"))).toEqual({ rules: [] });
  });
});
