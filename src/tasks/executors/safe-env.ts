/**
 * The environment a task's process gets: a small safe base copied from the agent, plus what the
 * task sets. Never the agent's whole environment: API keys, tokens and database URLs stay out.
 */
const BASE_VARIABLES = ["PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR"] as const;

/** PATH of a task (and of allow-list lookups) when the agent has none. */
export const DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";

export function buildTaskEnvironment(
  taskEnv: Readonly<Record<string, string>>,
  agentEnv: Readonly<Record<string, string | undefined>> = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of BASE_VARIABLES) {
    const value = agentEnv[name];
    if (value !== undefined) env[name] = value;
  }
  env.PATH ??= DEFAULT_PATH;
  env.TERM = "dumb";
  return { ...env, ...taskEnv };
}
