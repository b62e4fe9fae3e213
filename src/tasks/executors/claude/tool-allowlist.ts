/**
 * The tools a claude-code task may pre-approve (its `allowedTools`). Claude with `Bash` allowed
 * runs any command, so once TASK_COMMAND_ALLOWLIST restricts the programs CLI tasks may run, a
 * Claude Code task may pre-approve only the tools CLAUDE_CODE_ALLOWED_TOOLS lists — by default the
 * ones that read and edit files in the project, none that runs a command or reaches the network.
 * Entries are compared whole ("Bash(npm test:*)" allows exactly that rule). Without either list,
 * any tool goes (as any program does).
 */
export const FILE_TOOLS = ["Read", "Edit", "MultiEdit", "Write", "Glob", "Grep", "LS", "NotebookRead", "NotebookEdit", "TodoWrite"] as const;

export interface ToolPolicy {
  commandAllowlist: readonly string[];
  toolAllowlist: readonly string[];
}

/** Why these pre-approved tools are refused, or undefined. */
export function allowedToolsProblem(tools: readonly string[] | undefined, policy: ToolPolicy): string | undefined {
  const list = policy.toolAllowlist.length > 0 ? policy.toolAllowlist : policy.commandAllowlist.length > 0 ? FILE_TOOLS : undefined;
  if (!list || !tools) return undefined;
  const refused = tools.filter((tool) => !list.includes(tool));
  if (refused.length === 0) return undefined;
  const why = policy.toolAllowlist.length > 0 ? "CLAUDE_CODE_ALLOWED_TOOLS" : "TASK_COMMAND_ALLOWLIST is set, so only the file tools unless CLAUDE_CODE_ALLOWED_TOOLS says otherwise";
  return `${refused.map((t) => `'${t}'`).join(", ")} may not be pre-approved; allowed: ${list.join(", ")} (${why})`;
}
