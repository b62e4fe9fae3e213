/**
 * A real agent for the budget commands' tests (startAgent; the real claude binary against the
 * Messages-API stand-in), with an admin token, alice's named token and a read-only token.
 */
import { mkdtempSync } from "node:fs";
import path from "node:path";
import { startAgent, type Agent } from "../../src/agent.js";
import { loadConfig } from "../../src/config.js";
import { silentLogger } from "../../src/logger.js";
import { startStandIn, type StandIn } from "./anthropic-stand-in.js";

export interface BudgetAgentTokens {
  admin: string;
  alice: string;
  read: string;
}

export interface BudgetAgent {
  agent: Agent;
  standIn: StandIn;
  /** The CLI's environment with `token`. */
  as(token: string): Record<string, string>;
  close(): Promise<void>;
}

/** `root`: the allowed root, holding the agent's data directory; `settings`: the budgets' (and any other) variables. */
export async function startBudgetAgent(root: string, tokens: BudgetAgentTokens, settings: Record<string, string>): Promise<BudgetAgent> {
  const standIn = await startStandIn();
  const dataDir = mkdtempSync(path.join(root, "agent-"));
  const env = {
    TASK_DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "silent", API_TOKEN: tokens.admin, API_USERS: `alice=${tokens.alice}`, API_READ_TOKEN: tokens.read,
    TASK_ALLOWED_ROOTS: root, ANTHROPIC_API_KEY: "sk-ant-test-key", ANTHROPIC_BASE_URL: standIn.url,
    TASK_SHUTDOWN_GRACE_MS: "100", TASK_KILL_GRACE_MS: "500", TASK_RETRY_BASE_MS: "100", TASK_RETRY_MAX_MS: "200",
    ...settings,
  };
  const agent = await startAgent(loadConfig(env, dataDir), { logger: silentLogger(), reactorStorage: { kind: "memory" }, rules: [] });
  return {
    agent,
    standIn,
    as: (token) => ({ PH_TASKS_URL: agent.url, API_TOKEN: token }),
    close: async () => {
      await agent.stop();
      await standIn.close();
    },
  };
}
