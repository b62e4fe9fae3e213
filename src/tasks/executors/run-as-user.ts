/**
 * Runs as another user (TASK_RUN_AS_USER): a run's processes under an unprivileged account of their
 * own instead of the agent's. A process of the agent's own user may read what the agent may — its
 * data directory (the task store, hook secrets) and, through /proc/<pid>/environ, the environment the
 * agent (and npm before it) started with: ANTHROPIC_API_KEY, API_TOKEN, DATABASE_URL. Output
 * redaction hides a plain copy, not a reversed or encrypted one. Another user reads none of it.
 *
 * How: the agent runs as root, and util-linux's `setpriv --reuid --regid --clear-groups
 * --no-new-privs -- <program>` becomes the program as that user — after the cgroup trampoline and
 * prlimit, which still run as root (so the task can neither leave its cgroup nor raise its hard
 * limits), and with no_new_privs, so a setuid program (sudo, su) cannot give root back.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, lstatSync, mkdirSync, readdirSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ConfigError } from "../../config.js";
import { findAgentTool } from "./resolve-program.js";
import { DEFAULT_PATH } from "./safe-env.js";

export interface RunUser {
  name: string;
  uid: number;
  gid: number;
  /** Its home directory in the password database (HOME of its CLI runs). */
  home: string;
}

/** The account `spec` (a name or a uid) names, from the password database (getent: NSS too), or why not. */
export function resolveRunUser(spec: string): RunUser | { problem: string } {
  let line: string;
  try {
    line = execFileSync("getent", ["passwd", spec], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 5000 }).split("\n")[0] ?? "";
  } catch {
    return { problem: "is not a user of this machine (getent passwd finds no such name or uid)" };
  }
  const [name, , uid, gid, , home] = line.split(":");
  if (!name || !/^\d+$/.test(uid ?? "") || !/^\d+$/.test(gid ?? "")) return { problem: `has an entry getent cannot be read from (${line})` };
  if (Number(uid) === 0 || Number(gid) === 0) return { problem: "is root (uid or gid 0): runs must go to an unprivileged account, e.g. a user made for them (useradd --system ph-runner) or nobody" };
  return { name, uid: Number(uid), gid: Number(gid), home: home || "/" };
}

/** util-linux's setpriv on the agent's PATH. */
export function findSetpriv(agentPath = process.env.PATH ?? DEFAULT_PATH): string | undefined {
  return findAgentTool("setpriv", agentPath);
}

/** Why this agent cannot run tasks as `user`, or undefined when it can. */
export function runAsProblem(agentUid = process.getuid?.()): string | undefined {
  if (agentUid !== 0) return `needs an agent running as root to switch to it (this one runs as uid ${agentUid ?? "unknown"}); or run the agent itself as the account tasks should have`;
  if (!findSetpriv()) return "needs setpriv (util-linux) on the agent's PATH";
  return undefined;
}

/** setpriv's command line that becomes `program` (an absolute path) as `user`. */
export function userLaunch(program: string, args: readonly string[], user: RunUser): { command: string; args: string[] } {
  const setpriv = findSetpriv() ?? "setpriv";
  return { command: setpriv, args: [`--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", "--no-new-privs", "--", program, ...args] };
}

/** The run's user's HOME (its own, or the one given), USER and LOGNAME in place of the agent's. */
export function userEnvironment(env: Record<string, string>, user: RunUser, home = user.home): Record<string, string> {
  return { ...env, HOME: home, USER: user.name, LOGNAME: user.name };
}

/**
 * A directory for per-run homes the run's user can reach (TASK_DATA_DIR is private to the agent):
 * made 0711 (others may pass through to a home they know the name of, not list it), owned by the
 * agent. One that is a symlink, or someone else's, is refused: /tmp is everyone's.
 */
export function ensureSharedHomesDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o711 });
  const stat = lstatSync(dir);
  if (!stat.isDirectory()) throw new Error(`${dir} is not a directory (a symlink?): refusing to put runs' homes there`);
  if (stat.uid !== process.getuid?.()) throw new Error(`${dir} belongs to uid ${stat.uid}, not this agent: refusing to put runs' homes there`);
  if ((stat.mode & 0o777) !== 0o711) chmodSync(dir, 0o711);
}

/** Hands a run's home (made by the agent) to the run's user: everything in it, recursively. */
export function handOver(dir: string, user: RunUser): void {
  chownSync(dir, user.uid, user.gid);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const inner = path.join(dir, entry.name);
    if (entry.isDirectory()) handOver(inner, user);
    else if (!entry.isSymbolicLink()) chownSync(inner, user.uid, user.gid);
  }
}

/** Where Claude runs' homes go when runs have a user of their own. */
export const SHARED_HOMES_DIR = path.join(tmpdir(), "ph-tasks-run-homes");

/**
 * TASK_RUN_AS_USER resolved and checked at start (agent and `ph-tasks run`): the account, or a
 * ConfigError naming the variable — runs are never let out as the agent's user when another was asked for.
 */
export function openRunUser(spec: string | undefined): RunUser | undefined {
  if (spec === undefined) return undefined;
  const user = resolveRunUser(spec);
  const problem = "problem" in user ? user.problem : runAsProblem();
  if (problem) throw new ConfigError([{ field: "TASK_RUN_AS_USER", value: spec, message: problem }]);
  try {
    ensureSharedHomesDir(SHARED_HOMES_DIR);
  } catch (error) {
    throw new ConfigError([{ field: "TASK_RUN_AS_USER", value: spec, message: `Claude runs' homes: ${(error as Error).message}` }]);
  }
  return user as RunUser;
}

/**
 * What the account may not do of what its runs need — enter each allowed root, run the claude
 * binary — asked as the account itself (the kernel's answer, ACLs and all). Empty when it may.
 */
export function accessProblems(user: RunUser, roots: readonly string[], claudeBinary: string | undefined): string[] {
  const may = (file: string) => spawnSync(findSetpriv() ?? "setpriv", [`--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", "--", "/usr/bin/test", "-x", file], { timeout: 5000 }).status === 0;
  return [
    ...roots.filter((root) => !may(root)).map((root) => `enter ${root} (TASK_ALLOWED_ROOTS)`),
    ...(claudeBinary !== undefined && !may(claudeBinary) ? [`run ${claudeBinary} (Claude tasks)`] : []),
  ];
}
