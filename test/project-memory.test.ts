/**
 * A claude-code project's memory files, read by us (claude runs without the project's settings):
 * CLAUDE.md and .claude/CLAUDE.md up the tree as far as the allowed roots go, outermost first, then
 * CLAUDE.local.md; never a file outside the roots (a parent above them, a symlink out); all of them
 * together cut at 64 KB.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PROJECT_MEMORY_MAX_BYTES, readProjectMemory, withProjectMemory } from "../src/tasks/executors/claude/project-memory.js";

const base = mkdtempSync(path.join(tmpdir(), "ph-memory-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(base, "t-"));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

describe("project memory", () => {
  it("reads the memory files up the tree within the roots, outermost first, then CLAUDE.local.md; not above the roots", async () => {
    const dir = tree({
      "CLAUDE.md": "above the roots",
      "roots/CLAUDE.md": "team rules",
      "roots/app/.claude/CLAUDE.md": "app, in .claude",
      "roots/app/CLAUDE.md": "app rules",
      "roots/app/CLAUDE.local.md": "my own notes",
      "roots/app/src/other.md": "not memory",
    });
    const memory = await readProjectMemory(path.join(dir, "roots", "app"), [path.join(dir, "roots")]);
    expect(memory).toEqual([
      { path: "../CLAUDE.md", text: "team rules" },
      { path: "CLAUDE.md", text: "app rules" },
      { path: ".claude/CLAUDE.md", text: "app, in .claude" },
      { path: "CLAUDE.local.md", text: "my own notes" },
    ]);
    const prompt = withProjectMemory("Fix the build", memory);
    expect(prompt).toBe(
      `The project's memory files, outermost first (its instructions for you):\n<claude-md path="../CLAUDE.md">\nteam rules\n</claude-md>\n<claude-md path="CLAUDE.md">\napp rules\n</claude-md>\n<claude-md path=".claude/CLAUDE.md">\napp, in .claude\n</claude-md>\n<claude-md path="CLAUDE.local.md">\nmy own notes\n</claude-md>\n\nFix the build`,
    );
    expect(withProjectMemory("Fix the build", [])).toBe("Fix the build");
  });

  it("a memory file that links out of the roots, or is empty, is left out; all of them together are cut at 64 KB", async () => {
    const dir = tree({ "CLAUDE.local.md": "   \n", ".claude/.keep": "" });
    symlinkSync("/etc/hostname", path.join(dir, "CLAUDE.md"));
    symlinkSync("/etc", path.join(dir, ".claude", "CLAUDE.md"));
    expect(await readProjectMemory(dir, [dir])).toEqual([]);

    const big = tree({ "CLAUDE.md": "x".repeat(PROJECT_MEMORY_MAX_BYTES - 10), ".claude/CLAUDE.md": "y".repeat(100), "CLAUDE.local.md": "never read" });
    const memory = await readProjectMemory(big, [big]);
    expect(memory.map((m) => m.path)).toEqual(["CLAUDE.md", ".claude/CLAUDE.md"]);
    expect(memory[1]?.text).toBe(`${"y".repeat(10)}\n[memory cut at ${PROJECT_MEMORY_MAX_BYTES} bytes in all]`);
  });
});
