/**
 * Which environment variables a CLI task may set. A variable is code to many programs: an allowed
 * `git` runs any command that GIT_CONFIG_COUNT / GIT_CONFIG_KEY_0=core.fsmonitor tells it to,
 * bash sources BASH_ENV, python imports from PYTHONPATH, glibc loads GCONV_PATH modules. So once
 * TASK_COMMAND_ALLOWLIST restricts the programs, a task sets only the variables TASK_ENV_ALLOWLIST
 * lists (none by default); without a command allow-list any program may run anyway, and any name
 * goes (LD_*, DYLD_* and NODE_OPTIONS are refused by the task schema always).
 */
import { describeValue, type FieldError } from "../../validation.js";

export interface EnvironmentPolicy {
  commandAllowlist: readonly string[];
  /** Names, prefixes ending in "*" (MYAPP_*), or "*" for any. */
  environmentAllowlist: readonly string[];
}

function allows(entry: string, name: string): boolean {
  return entry.endsWith("*") ? name.startsWith(entry.slice(0, -1)) : name === entry;
}

/** One problem per variable the policy refuses, naming it and what is allowed. */
export function environmentProblems(environment: Readonly<Record<string, string>>, policy: EnvironmentPolicy): FieldError[] {
  const list = policy.environmentAllowlist;
  if (list.length === 0 && policy.commandAllowlist.length === 0) return [];
  const message =
    list.length > 0
      ? `may not be set by a task; allowed: ${list.join(", ")} (TASK_ENV_ALLOWLIST)`
      : "may not be set by a task: TASK_COMMAND_ALLOWLIST is set, so tasks set only the variables TASK_ENV_ALLOWLIST lists, and it lists none (a variable can make an allowed program run another: GIT_CONFIG_*, BASH_ENV, PYTHONPATH, GCONV_PATH)";
  return Object.keys(environment)
    .filter((name) => !list.some((entry) => allows(entry, name)))
    .map((name) => ({ field: "environment", value: describeValue(name), message }));
}
