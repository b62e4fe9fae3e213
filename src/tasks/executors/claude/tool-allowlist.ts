/**
 * The tools a claude-code task may pre-approve (its `allowedTools`), and what is passed to claude
 * for them. Claude with `Bash` allowed
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

/** File tools by the permission rule that governs them in Claude Code (Read rules cover search too). */
const READ_RULE_TOOLS = new Set(["Read", "Grep", "Glob", "LS", "NotebookRead"]);
const EDIT_RULE_TOOLS = new Set(["Edit", "MultiEdit", "Write", "NotebookEdit"]);

/**
 * The pre-approvals as claude gets them: a bare file tool becomes its rule for each allowed root
 * ("Read" → "Read(//srv/work/**)"). Pre-approved bare, Read and Write reach the whole machine —
 * measured on the pinned binary (session 14): a task with `allowedTools: ["Read", "Write"]` read
 * a file outside the roots into the conversation and wrote one there, while unapproved the same
 * calls were denied. Rules a task writes itself ("Bash(npm test:*)", "Read(./docs/**)") pass as
 * they are, after the policy above.
 */
export function scopeFileTools(tools: readonly string[], allowedRoots: readonly string[]): string[] {
  const scoped = new Set<string>();
  for (const tool of tools) {
    const rule = READ_RULE_TOOLS.has(tool) ? "Read" : EDIT_RULE_TOOLS.has(tool) ? "Edit" : undefined;
    if (!rule) scoped.add(tool);
    // claude splits the list on commas and spaces: a root holding one cannot be named, so is left out (denied, not widened).
    else for (const root of allowedRoots.filter((r) => !/[\s,]/.test(r))) scoped.add(`${rule}(/${root.replace(/\/+$/, "")}/**)`);
  }
  return [...scoped];
}
