/** `ph-tasks approvals`: those waiting for a decision; `approve <id>` / `reject <id>`: a person's decision on one (approvals.ts). */
import type { Command } from "commander";
import { userInfo } from "node:os";
import { z } from "zod";
import { ApiTaskSchema } from "../client.js";
import { ago, table, truncate } from "../format.js";
import { clientFor, printJson } from "./client-options.js";
import { printText } from "../terminal-text.js";

/** A decided approval: who decided, as the agent recorded it (a named token's name, whatever --by said). */
const TaskBody = z.object({
  task: ApiTaskSchema.and(z.looseObject({
    decision: z.looseObject({ by: z.string() }).optional(),
    // An approval that needs several: those counted so far.
    approvals: z.array(z.looseObject({ by: z.string() })).optional(),
    required: z.number().optional(),
    approvers: z.array(z.string()).optional(),
  })),
});
/** What the approvals list needs beyond a task's fields: what it asks, since when, who may decide. */
const ApprovalSchema = ApiTaskSchema.and(z.looseObject({ message: z.string().optional(), asked: z.string().optional(), approvers: z.array(z.string()).optional(), required: z.number().optional(), approvals: z.array(z.looseObject({ by: z.string() })).optional() }));

/** "anyone", "alice,carol", or for one that needs several "2 of alice,bob,carol (1: alice)". */
function whoMayDecide(a: z.infer<typeof ApprovalSchema>): string {
  if (!a.approvers) return "anyone";
  const names = a.approvers.join(",");
  if ((a.required ?? 1) <= 1) return names;
  const counted = (a.approvals ?? []).map((c) => c.by);
  return `${a.required} of ${names}${counted.length > 0 ? ` (${counted.length}: ${counted.join(",")})` : ""}`;
}
const AccessBody = z.looseObject({ name: z.string().optional() });
const ApprovalsBody = z.object({ approvals: z.array(ApprovalSchema) });

/** Who decides, when --by is not given: this machine's user name. */
function defaultBy(): string {
  try {
    return userInfo().username;
  } catch {
    return "cli";
  }
}

export function registerApprovalCommands(program: Command): void {
  program
    .command("approvals")
    .description("the approval tasks waiting for a person's decision now, the longest waiting first")
    .option("--limit <n>", "how many (1-200)", "50")
    .option("--json", "print JSON")
    .action(async (flags: { limit: string; json?: boolean }, command: Command) => {
      const { approvals } = await clientFor(command).request("GET", `/api/approvals?limit=${encodeURIComponent(flags.limit)}`, ApprovalsBody);
      if (flags.json) return printJson(approvals);
      const rows = approvals.map((a) => [a.id, ago(a.asked), truncate(a.title, 60), truncate(a.message ?? "", 60), whoMayDecide(a)]);
      printText(`${table(["ID", "ASKED", "QUESTION", "MESSAGE", "WHO MAY DECIDE"], rows)}\n${approvals.length} waiting for a decision: ph-tasks approve <id> / reject <id>\n`);
    });

  for (const [verb, description] of [
    ["approve", "approve a waiting approval task: it completes, and what waits for it runs"],
    ["reject", "reject a waiting approval task: it fails, and what waits for it is cancelled (or waits, as its onDependencyFailure says)"],
  ] as const) {
    program
      .command(verb)
      .description(description)
      .argument("<id>", "the approval task's id")
      .option("--note <text>", "why (kept with the decision, shown in its log and result)")
      .option("--by <name>", "who decides (default: the name of your token when it has one — API_USERS —, else this machine's user name)")
      .option("--json", "print the task object as JSON")
      .action(async (id: string, flags: { note?: string; by?: string; json?: boolean }, command: Command) => {
        const client = clientFor(command);
        // A named token decides as its name: no other is sent unless asked for (the agent refuses one that differs).
        const named = flags.by === undefined && (await client.request("GET", "/api/access", AccessBody)).name !== undefined;
        const by = flags.by ?? (named ? undefined : defaultBy());
        const body = { ...(by !== undefined ? { by } : {}), ...(flags.note !== undefined ? { note: flags.note } : {}) };
        const { task } = await client.request("POST", `/api/tasks/${encodeURIComponent(id)}/${verb}`, TaskBody, body);
        if (flags.json) return printJson(task);
        if (!task.decision) {
          // Counted toward an approval that needs several; it waits for the others.
          const counted = task.approvals ?? [];
          const waiting = (task.approvers ?? []).filter((name) => !counted.some((a) => a.by === name));
          return printText(`${task.id}: approval by ${counted.at(-1)?.by ?? by ?? "?"} counted (${counted.length} of ${task.required ?? 1}); waits for ${waiting.join(", ")}\n`);
        }
        printText(`${task.id} ${verb === "approve" ? "approved" : "rejected"} by ${task.decision.by}\n`);
      });
  }
}
