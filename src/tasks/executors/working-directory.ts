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
  const roots = await Promise.all(allowedRoots.map((root) => realpath(root).catch(() => path.resolve(root))));
  if (!roots.some((root) => isInside(real, root))) {
    throw fatal(
      "working_directory_not_allowed",
      `workingDirectory '${requested ?? wanted}' is outside the allowed roots (${allowedRoots.join(", ")})`,
    );
  }
  return real;
}
