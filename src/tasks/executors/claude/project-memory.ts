/**
 * The project's CLAUDE.md, read by us rather than by claude. Claude Code loads a project's
 * `.claude/settings.json` along with its CLAUDE.md, and those settings are code: measured on the
 * pinned binary (session 14), a project's settings sent the agent's API key to the URL in their
 * `env.ANTHROPIC_BASE_URL`, ran their `apiKeyHelper` command and their hooks — in a directory any
 * earlier task, or a cloned repository, may have written. So claude runs with `--setting-sources
 * user` (its per-run HOME only), which drops the CLAUDE.md too; this puts it back, as text in the
 * prompt, when it is a file inside the allowed roots (a symlink out is not followed).
 */
import { access, open, realpath } from "node:fs/promises";
import path from "node:path";
import { isInsideRoots } from "../working-directory.js";

/** CLAUDE.md beyond this is cut (with a note): it goes into every first request. */
export const PROJECT_MEMORY_MAX_BYTES = 64 * 1024;

export async function readProjectMemory(projectDir: string, allowedRoots: readonly string[]): Promise<string | undefined> {
  let file: string;
  try {
    file = await realpath(path.join(projectDir, "CLAUDE.md"));
  } catch {
    return undefined;
  }
  if (!(await isInsideRoots(file, allowedRoots))) return undefined;
  const handle = await open(file, "r").catch(() => undefined);
  if (!handle) return undefined;
  try {
    if (!(await handle.stat()).isFile()) return undefined;
    const buffer = Buffer.alloc(PROJECT_MEMORY_MAX_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, Math.min(bytesRead, PROJECT_MEMORY_MAX_BYTES)).toString("utf8");
    return bytesRead > PROJECT_MEMORY_MAX_BYTES ? `${text}\n[CLAUDE.md cut at ${PROJECT_MEMORY_MAX_BYTES} bytes]` : text;
  } finally {
    await handle.close();
  }
}

/** The prompt with the project's instructions before it. */
export function withProjectMemory(prompt: string, memory: string | undefined): string {
  if (memory === undefined || memory.trim() === "") return prompt;
  return `The project's CLAUDE.md (its instructions for you):\n<claude-md>\n${memory}\n</claude-md>\n\n${prompt}`;
}

/** The project's own settings files that claude is not given (for a notice: their permissions no longer apply). */
export async function skippedProjectSettings(projectDir: string): Promise<string[]> {
  const names = [".claude/settings.json", ".claude/settings.local.json"];
  const found = await Promise.all(names.map((name) => access(path.join(projectDir, name)).then(() => name, () => undefined)));
  return found.filter((name): name is string => name !== undefined);
}
