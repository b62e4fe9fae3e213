/**
 * The executors the agent ships, registered from the configuration. Embedders add their own with
 * registry.register(...).
 */
import path from "node:path";
import type { Config } from "../../config.js";
import { ApprovalExecutor } from "./approval-executor.js";
import { knownPeople } from "../../security/known-people.js";
import { ClaudeAgentExecutor } from "./claude-agent-executor.js";
import { ClaudeCodeExecutor } from "./claude-code-executor.js";
import type { OwnMcp } from "./claude/agent-mcp.js";
import type { DocumentContextProvider } from "./claude/document-context.js";
import { CliExecutor } from "./cli-executor.js";
import { ExecutorRegistry } from "./registry.js";
import { agentLimits } from "./run-limits.js";
import { SHARED_HOMES_DIR, type RunUser } from "./run-as-user.js";

export interface RegistryOptions {
  documentContext?: DocumentContextProvider;
  /** The agent's own reactor-mcp endpoint (claude-agent tasks' default), once its server listens. */
  ownMcp?: () => OwnMcp | undefined;
  /** Where runs' cgroups go: this process's directory under TASK_CGROUP_ROOT (agent-cgroup.ts). */
  cgroupRoot?: string;
  /** TASK_RUN_AS_USER, resolved (openRunUser): the account every run has. */
  runUser?: RunUser | undefined;
}

/** The task types the agent ships (a plugin cannot take their names). */
export const BUILT_IN_TASK_TYPES = ["cli", "claude-code", "claude-agent", "approval"] as const;

export function createDefaultRegistry(config: Config, options: RegistryOptions = {}): ExecutorRegistry {
  const registry = new ExecutorRegistry();
  const cgroupRoot = options.cgroupRoot ?? config.TASK_CGROUP_ROOT;
  const limits = agentLimits(config);
  const user = options.runUser;
  // The data directory is the agent's alone: another user's Claude runs keep their homes elsewhere.
  const homesDir = user ? SHARED_HOMES_DIR : path.join(config.dataDir, "claude-homes");
  registry.register(
    new CliExecutor({
      allowedRoots: config.allowedRoots,
      commandAllowlist: config.TASK_COMMAND_ALLOWLIST,
      environmentAllowlist: config.TASK_ENV_ALLOWLIST,
      secrets: config.TASK_SECRETS,
      killGraceMs: config.TASK_KILL_GRACE_MS,
      ...(cgroupRoot ? { cgroupRoot } : {}),
      limits,
      user,
      captureBytes: config.TASK_OUTPUT_CAP_BYTES,
    }),
  );
  registry.register(
    new ClaudeCodeExecutor({
      claudePath: config.CLAUDE_CLI_PATH,
      credentials: { apiKey: config.ANTHROPIC_API_KEY, baseUrl: config.ANTHROPIC_BASE_URL },
      defaultModel: config.CLAUDE_MODEL,
      defaultMaxBudgetUsd: config.CLAUDE_MAX_BUDGET_USD,
      allowedRoots: config.allowedRoots,
      homesDir,
      killGraceMs: config.TASK_KILL_GRACE_MS,
      ...(cgroupRoot ? { cgroupRoot } : {}),
      limits,
      user,
      captureBytes: config.TASK_OUTPUT_CAP_BYTES,
      requestsPerMinute: config.CLAUDE_REQUESTS_PER_MINUTE,
      documentContext: options.documentContext,
      projectSettings: config.CLAUDE_CODE_PROJECT_SETTINGS,
      commandAllowlist: config.TASK_COMMAND_ALLOWLIST,
      toolAllowlist: config.CLAUDE_CODE_ALLOWED_TOOLS,
    }),
  );
  registry.register(
    new ClaudeAgentExecutor({
      claudePath: config.CLAUDE_CLI_PATH,
      credentials: { apiKey: config.ANTHROPIC_API_KEY, baseUrl: config.ANTHROPIC_BASE_URL },
      defaultModel: config.CLAUDE_MODEL,
      defaultMaxBudgetUsd: config.CLAUDE_MAX_BUDGET_USD,
      defaultMaxTurns: config.CLAUDE_AGENT_MAX_TURNS,
      homesDir,
      killGraceMs: config.TASK_KILL_GRACE_MS,
      ...(cgroupRoot ? { cgroupRoot } : {}),
      limits,
      user,
      requestsPerMinute: config.CLAUDE_REQUESTS_PER_MINUTE,
      ownMcp: options.ownMcp,
      fallbackMcpUrl: config.MCP_SERVER_URL,
      allowedMcpUrls: config.CLAUDE_AGENT_MCP_URLS,
      mcpCredentials: config.CLAUDE_AGENT_MCP_CREDENTIALS,
      documentContext: options.documentContext,
    }),
  );
  registry.register(new ApprovalExecutor(knownPeople(config)));
  return registry;
}

export { ExecutorRegistry } from "./registry.js";
export * from "./executor.js";
