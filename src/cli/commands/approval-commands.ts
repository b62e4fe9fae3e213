/** `ph-tasks approve <id>` / `reject <id>`: a person's decision on an approval task (approvals.ts). */
import type { Command } from "commander";
import { userInfo } from "node:os";
import { z } from "zod";
import { ApiTaskSchema } from "../client.js";
import { clientFor, printJson } from "./client-options.js";
import { printText } from "../terminal-text.js";

const TaskBody = z.object({ task: ApiTaskSchema });

/** Who decides, when --by is not given: this machine's user name. */
function defaultBy(): string {
  try {
    return userInfo().username;
  } catch {
    return "cli";
  }
}

export function registerApprovalCommands(program: Command): void {
  for (const [verb, description] of [
    ["approve", "approve a waiting approval task: it completes, and what waits for it runs"],
    ["reject", "reject a waiting approval task: it fails, and what waits for it is cancelled (or waits, as its onDependencyFailure says)"],
  ] as const) {
    program
      .command(verb)
      .description(description)
      .argument("<id>", "the approval task's id")
      .option("--note <text>", "why (kept with the decision, shown in its log and result)")
      .option("--by <name>", "who decides (default: this machine's user name)")
      .option("--json", "print the task object as JSON")
      .action(async (id: string, flags: { note?: string; by?: string; json?: boolean }, command: Command) => {
        const body = { by: flags.by ?? defaultBy(), ...(flags.note !== undefined ? { note: flags.note } : {}) };
        const { task } = await clientFor(command).request("POST", `/api/tasks/${encodeURIComponent(id)}/${verb}`, TaskBody, body);
        if (flags.json) return printJson(task);
        printText(`${task.id} ${verb === "approve" ? "approved" : "rejected"} by ${body.by}\n`);
      });
  }
}
