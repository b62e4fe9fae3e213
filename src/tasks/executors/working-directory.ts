/**
 * Where a task may run: inside one of the allowed roots, after resolving symlinks (so a link
 * inside a root cannot point outside it). Absent: the first root.
 */
import { realpath, stat } from "node:fs/promises";
import path from "node:path";
import { fatal } from "./executor.js";

function isInside(dir: string, root: string): boolean {
  const rel = path.relative(root, dir);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

export async function resolveWorkingDirectory(requested: string | undefined, allowedRoots: readonly string[]): Promise<string> {
  const firstRoot = allowedRoots[0];
  if (firstRoot === undefined) throw fatal("no_allowed_roots", "no working-directory roots are configured (TASK_ALLOWED_ROOTS)");
  const wanted = path.resolve(firstRoot, requested ?? ".");
  let real: string;
  try {
    real = await realpath(wanted);
  } catch {
    throw fatal("working_directory_missing", `workingDirectory '${requested ?? wanted}' does not exist`);
  }
  if (!(await stat(real)).isDirectory()) throw fatal("working_directory_invalid", `workingDirectory '${requested ?? wanted}' is not a directory`);
  if (!(await isInsideRoots(real, allowedRoots))) {
    throw fatal(
      "working_directory_not_allowed",
      `workingDirectory '${requested ?? wanted}' is outside the allowed roots (${allowedRoots.join(", ")})`,
    );
  }
  return real;
}

/** The roots with their symlinks resolved (as given where one does not exist). */
export function realRoots(allowedRoots: readonly string[]): Promise<string[]> {
  return Promise.all(allowedRoots.map((root) => realpath(root).catch(() => path.resolve(root))));
}

/** Whether the real path `file` lies in one of the roots (their symlinks resolved). */
export async function isInsideRoots(file: string, allowedRoots: readonly string[]): Promise<boolean> {
  return (await realRoots(allowedRoots)).some((root) => isInside(file, root));
}

/** `p` with symlinks resolved as far as it exists: the nearest existing ancestor's real path, then the rest. */
async function nearestRealPath(p: string): Promise<string> {
  const rest: string[] = [];
  let at = p;
  for (;;) {
    try {
      return path.join(await realpath(at), ...rest);
    } catch {
      const parent = path.dirname(at);
      if (parent === at) return p;
      rest.unshift(path.basename(at));
      at = parent;
    }
  }
}

/**
 * For a task being accepted: why `requested` can never be a working directory under these roots,
 * or undefined. Unlike resolveWorkingDirectory it does not need the directory to exist yet (an
 * earlier task may make it); what exists of it is resolved, so a symlink cannot lead out.
 */
export async function workingDirectoryProblem(requested: string | undefined, allowedRoots: readonly string[]): Promise<string | undefined> {
  const firstRoot = allowedRoots[0];
  if (firstRoot === undefined) return undefined; // the agent's configuration, not the request: the run says so
  const wanted = await nearestRealPath(path.resolve(firstRoot, requested ?? "."));
  const roots = await Promise.all(allowedRoots.map((root) => nearestRealPath(path.resolve(root))));
  if (roots.some((root) => isInside(wanted, root))) return undefined;
  return `is outside the allowed roots (${allowedRoots.join(", ")})`;
}
