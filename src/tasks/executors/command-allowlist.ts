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

/** Why the allow-list refuses `command` (the same whenever asked), or undefined. */
export function commandProblem(command: string, allowlist: readonly string[]): string | undefined {
  if (allowlist.length === 0) return undefined;
  const allowed = `allowed: ${allowlist.join(", ")}`;
  if (!allowlist.includes(command)) return `is not allowed; ${allowed}`;
  if (!path.isAbsolute(command) && command.includes("/")) return `is a relative path; allow-list entries are program names or absolute paths (${allowed})`;
  return undefined;
}

/**
 * What to spawn for `command` under the allow-list: the command itself when the list is empty,
 * else the absolute path it stands for. Throws `command_not_allowed` naming what is allowed.
 */
export async function resolveAllowedCommand(command: string, allowlist: readonly string[], agentPath: string): Promise<string> {
  if (allowlist.length === 0) return command;
  const problem = commandProblem(command, allowlist);
  if (problem) throw fatal("command_not_allowed", `command '${command}' ${problem}`);
  if (path.isAbsolute(command)) return command;
  const found = await findOnPath(command, agentPath);
  if (!found) throw fatal("command_not_found", `command not found: '${command}' (allowed, but not on the agent's PATH: ${agentPath})`);
  return found;
}
