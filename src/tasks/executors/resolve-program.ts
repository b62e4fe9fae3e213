/**
 * The program spawn() would run for a command: looked up on the task's own PATH as spawn() does, so
 * that a wrapper started in its place (the cgroup trampoline, prlimit) is handed an absolute path
 * and a missing program is still reported as spawn() would report it, not as the wrapper's exit.
 */
import { accessSync, constants, existsSync, statSync } from "node:fs";
import path from "node:path";

/** Its path, or the errno spawn() would fail with. */
export function resolveProgram(command: string, env: Record<string, string>, cwd: string): { file: string } | { errno: "ENOENT" | "EACCES" } {
  const candidates = command.includes("/") ? [path.resolve(cwd, command)] : (env.PATH ?? "/usr/bin:/bin").split(":").map((dir) => path.resolve(cwd, dir || ".", command));
  let denied = false;
  for (const file of candidates) {
    try {
      if (!statSync(file).isFile()) continue;
      accessSync(file, constants.X_OK);
      return { file };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EACCES") denied = true;
    }
  }
  return { errno: denied ? "EACCES" : "ENOENT" };
}

/** An error like the one spawn() gives for `command` (code ENOENT or EACCES). */
export function spawnLikeError(command: string, errno: string, message = `spawn ${command} ${errno}`): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(message);
  error.code = errno;
  return error;
}

const toolsFound = new Map<string, string | null>();

/** A helper program of the agent's own (prlimit, setpriv) on its PATH, looked for once per PATH. */
export function findAgentTool(name: string, agentPath: string): string | undefined {
  const key = `${name}\u0000${agentPath}`;
  let found = toolsFound.get(key);
  if (found === undefined) {
    found = agentPath.split(":").filter((dir) => path.isAbsolute(dir)).map((dir) => path.join(dir, name)).find((file) => existsSync(file)) ?? null;
    toolsFound.set(key, found);
  }
  return found ?? undefined;
}
