/**
 * The extra `claude` flags a task may pass. A document must not be able to reconfigure the agent
 * (its MCP servers, settings, permissions), so everything else is refused before anything runs.
 */
import { fatal } from "../executor.js";

/** Flag → whether it takes a value. */
const ALLOWED: Record<string, { value: boolean; directory?: boolean }> = {
  "--append-system-prompt": { value: true },
  "--disallowedTools": { value: true },
  "--disallowed-tools": { value: true },
  "--add-dir": { value: true, directory: true },
  "--fallback-model": { value: true },
};

export const ALLOWED_CLAUDE_FLAGS = Object.keys(ALLOWED);

export interface CheckedFlags {
  argv: string[];
  /** Values that name directories: each must be checked against the allowed roots. */
  directories: string[];
  /** Where those values sit in argv, so the caller can put the resolved path in their place. */
  directoryIndexes: number[];
}

/** Checks additionalFlags; returns them as argv, and the directories that must be in the allowed roots. */
export function checkAdditionalFlags(flags: readonly string[]): CheckedFlags {
  const argv: string[] = [];
  const directories: string[] = [];
  const directoryIndexes: number[] = [];
  for (let i = 0; i < flags.length; i++) {
    const token = flags[i] ?? "";
    const [name, inline] = token.includes("=") ? [token.slice(0, token.indexOf("=")), token.slice(token.indexOf("=") + 1)] : [token, undefined];
    const spec = ALLOWED[name];
    if (!spec) throw fatal("flag_not_allowed", `additionalFlags: '${name}' is not allowed; allowed flags: ${ALLOWED_CLAUDE_FLAGS.join(", ")}`);
    let value = inline;
    if (spec.value && value === undefined) {
      value = flags[++i];
      if (value === undefined || value.startsWith("--")) throw fatal("flag_not_allowed", `additionalFlags: '${name}' needs a value`);
    }
    // Passed on as a separate argument, a value that reads as an option must not become one.
    if (value?.startsWith("-")) throw fatal("flag_not_allowed", `additionalFlags: the value of '${name}' may not start with '-' (got '${value.slice(0, 40)}')`);
    argv.push(name);
    if (value === undefined) continue;
    if (spec.directory) {
      directories.push(value);
      directoryIndexes.push(argv.length);
    }
    argv.push(value);
  }
  return { argv, directories, directoryIndexes };
}
