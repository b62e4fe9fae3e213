/**
 * The data directory (TASK_DATA_DIR) is the agent's alone. It holds the embedded task store —
 * whose files PGlite writes with mode 0666 (measured, session 14) — the documents and the Claude
 * runs' homes: readable, a local user sees every task's output and the environment values tasks
 * were given; writable, one could change a waiting task's command and have the agent run it. So
 * the directory is made 0700, which closes everything under it whatever the files' own modes.
 */
import { chmodSync, mkdirSync, statSync } from "node:fs";

export interface DataDirState {
  /** The permission bits it had, when others could get in and it was tightened to 0700. */
  tightenedFrom?: number;
  /** Why it could not be made private (owned by another user). */
  problem?: string;
}

/** Permission bits as `ls` users write them: 0755. */
export const describeMode = (mode: number) => `0${(mode & 0o777).toString(8)}`;

/** Whether others than the owner may enter `dir`; undefined when it does not exist. */
export function openToOthers(dir: string): { mode: number } | undefined {
  try {
    const mode = statSync(dir).mode & 0o777;
    return mode & 0o077 ? { mode } : undefined;
  } catch {
    return undefined;
  }
}

/** Makes `dir` (created if missing) private to this user; says what it changed or could not. */
export function ensurePrivateDataDir(dir: string): DataDirState {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const open = openToOthers(dir);
  if (!open) return {};
  const owner = statSync(dir).uid;
  if (typeof process.getuid === "function" && owner !== process.getuid()) {
    return { problem: `${dir} (mode ${describeMode(open.mode)}) belongs to uid ${owner}, not this agent's user: other users may read or change the task store; make it 0700` };
  }
  chmodSync(dir, 0o700);
  return { tightenedFrom: open.mode };
}
