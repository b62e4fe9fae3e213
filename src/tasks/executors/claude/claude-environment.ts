/**
 * The environment of one `claude` run: the safe base every task gets, its own HOME and
 * CLAUDE_CONFIG_DIR (sessions, backups and shell snapshots stay per run), no outside traffic but
 * the API, and the API key — which only Claude tasks ever see.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { buildTaskEnvironment } from "../safe-env.js";
import { handOver, userEnvironment, type RunUser } from "../run-as-user.js";

export interface ClaudeCredentials {
  apiKey?: string | undefined;
  baseUrl?: string | undefined;
}

/** `user`: TASK_RUN_AS_USER — the home is handed to that account, and USER / LOGNAME are its. */
export async function claudeEnvironment(home: string, credentials: ClaudeCredentials, agentEnv?: Readonly<Record<string, string | undefined>>, user?: RunUser): Promise<Record<string, string>> {
  const configDir = path.join(home, ".claude");
  await mkdir(configDir, { recursive: true });
  const base = buildTaskEnvironment({}, agentEnv);
  if (user) handOver(home, user);
  return {
    ...(user ? userEnvironment(base, user, home) : base),
    HOME: home,
    CLAUDE_CONFIG_DIR: configDir,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_AUTOUPDATER: "1",
    // One retry allowed so the CLI reports the server's retry delay (system/api_retry); the
    // executor stops the run right there and hands the delay to the task manager, whose backoff
    // is the one retry policy.
    CLAUDE_CODE_MAX_RETRIES: "1",
    // Realistic requests: MCP tools listed up front instead of behind tool search.
    ENABLE_TOOL_SEARCH: "false",
    ...(credentials.apiKey ? { ANTHROPIC_API_KEY: credentials.apiKey } : {}),
    ...(credentials.baseUrl ? { ANTHROPIC_BASE_URL: credentials.baseUrl } : {}),
  };
}
