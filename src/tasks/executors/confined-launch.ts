/**
 * What a run spawns, from the outside in: the cgroup trampoline (run-cgroup.ts, as the agent), then
 * prlimit setting the run's limits (run-limits.ts, still as the agent, so a task cannot raise its
 * hard limits), then setpriv becoming the run's user (run-as-user.ts), then the task's program —
 * each exec'ing the next, so it is one process, the run's leader, all along. Each is a wrapper only
 * when its setting is on; with none, the program is spawned as it is.
 */
import { resolveProgram, spawnLikeError } from "./resolve-program.js";
import { findPrlimit, hasProcessLimits, NO_PRLIMIT, prlimitOptions, type RunLimits } from "./run-limits.js";
import { findSetpriv, userLaunch, type RunUser } from "./run-as-user.js";

/** How a run is confined: each part off when absent. */
export interface RunConfinement {
  /** TASK_CGROUP_ROOT (this agent's directory there): a cgroup of its own per run. */
  cgroupRoot?: string | undefined;
  /** Resource limits of each of its processes. */
  limits?: RunLimits | undefined;
  /** TASK_RUN_AS_USER: the account its processes run as. */
  user?: RunUser | undefined;
}

type Launch = { command: string; args: string[] } | { error: NodeJS.ErrnoException };

/** prlimit and setpriv around `command` as the confinement asks (the cgroup is RunProcesses' part). */
export function confinedLaunch(command: string, args: readonly string[], env: Record<string, string>, cwd: string, confinement: Pick<RunConfinement, "limits" | "user">): Launch {
  const limited = hasProcessLimits(confinement.limits) ? confinement.limits : undefined;
  if (!limited && !confinement.user) return { command, args: [...args] };
  if (limited && !findPrlimit()) return { error: spawnLikeError(command, "ENOPRLIMIT", `resource limits cannot be applied: ${NO_PRLIMIT}`) };
  if (confinement.user && !findSetpriv()) return { error: spawnLikeError(command, "ENOSETPRIV", "the run's user cannot be switched to: setpriv (util-linux) is not on the agent's PATH") };
  // Looked up as spawn() would (the task's PATH), so a missing one is not the wrapper's exit status.
  const program = resolveProgram(command, env, cwd);
  if ("errno" in program) return { error: spawnLikeError(command, program.errno) };
  let launch = { command: program.file, args: [...args] };
  if (confinement.user) launch = userLaunch(launch.command, launch.args, confinement.user);
  if (limited) launch = { command: findPrlimit() ?? "prlimit", args: [...prlimitOptions(limited), "--", launch.command, ...launch.args] };
  return launch;
}

/** The error code of a run its confinement could not be set up for (a wrapper missing), or undefined. */
export function confinementFailure(error: NodeJS.ErrnoException | undefined): string | undefined {
  if (error?.code === "ENOPRLIMIT") return "limits_unavailable";
  if (error?.code === "ENOSETPRIV") return "run_user_unavailable";
  return undefined;
}
