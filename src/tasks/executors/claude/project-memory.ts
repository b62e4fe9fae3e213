/**
 * The project's CLAUDE.md, read by us rather than by claude. Claude Code loads a project's
 * `.claude/settings.json` along with its CLAUDE.md, and those settings are code: measured on the
 * pinned binary (session 14), a project's settings sent the agent's API key to the URL in their
 * `env.ANTHROPIC_BASE_URL`, ran their `apiKeyHelper` command and their hooks — in a directory any
 * earlier task, or a cloned repository, may have written. So claude runs with `--setting-sources
 * user` (its per-run HOME only), which drops the CLAUDE.md files too; this puts them back, as text
 * in the prompt, each when it is a file inside the allowed roots (a symlink out is not followed).
 */
import { access, open, realpath } from "node:fs/promises";
import path from "node:path";
import { isInsideRoots } from "../working-directory.js";

/** Memory beyond this, all files together, is cut (with a note): it goes into every first request. */
export const PROJECT_MEMORY_MAX_BYTES = 64 * 1024;

/** One memory file: where it is, relative to the project, and its text. */
export interface MemoryFile {
  path: string;
  text: string;
}

/**
 * The directories whose memory applies, outermost first: the project's and each parent's that is
 * inside the allowed roots (as Claude Code reads CLAUDE.md up the tree, but never out of the roots).
 */
async function memoryDirs(projectDir: string, allowedRoots: readonly string[]): Promise<string[]> {
  const dirs: string[] = [];
  let dir = await realpath(projectDir).catch(() => undefined);
  while (dir !== undefined && (await isInsideRoots(dir, allowedRoots))) {
    dirs.unshift(dir);
    const parent = path.dirname(dir);
    dir = parent === dir ? undefined : parent;
  }
  return dirs;
}

/** A regular file inside the roots (a symlink out is not followed), up to `maxBytes` of it; undefined otherwise. */
async function readInsideRoots(file: string, allowedRoots: readonly string[], maxBytes: number): Promise<{ text: string; cut: boolean } | undefined> {
  const real = await realpath(file).catch(() => undefined);
  if (real === undefined || !(await isInsideRoots(real, allowedRoots))) return undefined;
  const handle = await open(real, "r").catch(() => undefined);
  if (!handle) return undefined;
  try {
    if (!(await handle.stat()).isFile()) return undefined;
    const buffer = Buffer.alloc(maxBytes + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return { text: buffer.subarray(0, Math.min(bytesRead, maxBytes)).toString("utf8"), cut: bytesRead > maxBytes };
  } finally {
    await handle.close();
  }
}

/**
 * The project's memory files, as Claude Code would load them from its tree: `CLAUDE.md` and
 * `.claude/CLAUDE.md` of each directory from the outermost one inside the allowed roots down to the
 * project, then the project's `CLAUDE.local.md`. Together at most PROJECT_MEMORY_MAX_BYTES.
 */
export async function readProjectMemory(projectDir: string, allowedRoots: readonly string[]): Promise<MemoryFile[]> {
  const project = await realpath(projectDir).catch(() => projectDir);
  const candidates = (await memoryDirs(projectDir, allowedRoots)).flatMap((dir) => [path.join(dir, "CLAUDE.md"), path.join(dir, ".claude", "CLAUDE.md")]);
  candidates.push(path.join(project, "CLAUDE.local.md"));
  const files: MemoryFile[] = [];
  let left = PROJECT_MEMORY_MAX_BYTES;
  for (const file of candidates) {
    if (left <= 0) break;
    const read = await readInsideRoots(file, allowedRoots, left);
    if (!read || read.text.trim() === "") continue;
    left -= Buffer.byteLength(read.text);
    files.push({ path: path.relative(project, file) || path.basename(file), text: read.cut ? `${read.text}\n[memory cut at ${PROJECT_MEMORY_MAX_BYTES} bytes in all]` : read.text });
  }
  return files;
}

/** The prompt with the project's instructions before it, each file named. */
export function withProjectMemory(prompt: string, memory: readonly MemoryFile[]): string {
  if (memory.length === 0) return prompt;
  const files = memory.map((m) => `<claude-md path="${m.path}">\n${m.text}\n</claude-md>`).join("\n");
  return `The project's memory files, outermost first (its instructions for you):\n${files}\n\n${prompt}`;
}

/** The project's own settings files that claude is not given (for a notice: their permissions no longer apply). */
export async function skippedProjectSettings(projectDir: string): Promise<string[]> {
  const names = [".claude/settings.json", ".claude/settings.local.json"];
  const found = await Promise.all(names.map((name) => access(path.join(projectDir, name)).then(() => name, () => undefined)));
  return found.filter((name): name is string => name !== undefined);
}
