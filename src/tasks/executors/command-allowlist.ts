/**
 * The command allow-list (TASK_COMMAND_ALLOWLIST). An entry is a bare program name or an absolute
 * path. A bare name is looked up on the AGENT's PATH, and the task runs the file found there by
 * its absolute path: a task that sets PATH in its environment cannot make an allowed name run a
 * program of its own choosing.
 */
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import path from "node:path";
import { fatal } from "./executor.js";

export async function isExecutableFile(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

/** The first executable `name` on `searchPath`, or undefined. */
export async function findOnPath(name: string, searchPath: string): Promise<string | undefined> {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!path.isAbsolute(dir)) continue; // "." or "" would mean the task's own working directory
    const candidate = path.join(dir, name);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/**
 * An entry: a program, optionally followed by the arguments a task's own must start with
 * ("git status", "make test"). A program listed bare takes any arguments — and many programs run
 * other programs when their arguments say so (`git -c core.fsmonitor=…`, `find -exec`, `env`,
 * `python -c`), which is why an entry can pin the leading arguments.
 */
export interface AllowedCommand {
  entry: string;
  program: string;
  leadingArgs: string[];
}

export function parseAllowlist(entries: readonly string[]): AllowedCommand[] {
  return entries.map((entry) => {
    const [program = "", ...leadingArgs] = entry.trim().split(/\s+/);
    return { entry: entry.trim(), program, leadingArgs };
  });
}

/** The programs an allow-list names, each once, in order. */
export function allowedPrograms(entries: readonly string[]): string[] {
  return [...new Set(parseAllowlist(entries).map((c) => c.program))];
}

/** Why the allow-list refuses `command` with `args` (the same whenever asked), or undefined. */
export function commandProblem(command: string, args: readonly string[], allowlist: readonly string[]): string | undefined {
  if (allowlist.length === 0) return undefined;
  const entries = parseAllowlist(allowlist);
  const allowed = `allowed: ${entries.map((c) => c.entry).join(", ")}`;
  const forProgram = entries.filter((c) => c.program === command);
  if (forProgram.length === 0) return `is not allowed; ${allowed}`;
  if (!path.isAbsolute(command) && command.includes("/")) return `is a relative path; allow-list entries are program names or absolute paths (${allowed})`;
  if (forProgram.some((c) => c.leadingArgs.every((arg, i) => args[i] === arg))) return undefined;
  return `with arguments ${JSON.stringify(args.slice(0, 5))}${args.length > 5 ? "…" : ""} is not allowed: its arguments must start as in ${forProgram.map((c) => `'${c.entry}'`).join(" or ")}`;
}

/**
 * What to spawn for `command` under the allow-list: the command itself when the list is empty,
 * else the absolute path it stands for. Throws `command_not_allowed` naming what is allowed.
 */
export async function resolveAllowedCommand(command: string, args: readonly string[], allowlist: readonly string[], agentPath: string): Promise<string> {
  if (allowlist.length === 0) return command;
  const problem = commandProblem(command, args, allowlist);
  if (problem) throw fatal("command_not_allowed", `command '${command}' ${problem}`);
  if (path.isAbsolute(command)) return command;
  const found = await findOnPath(command, agentPath);
  if (!found) throw fatal("command_not_found", `command not found: '${command}' (allowed, but not on the agent's PATH: ${agentPath})`);
  return found;
}
