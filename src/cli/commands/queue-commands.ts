/**
 * `ph-tasks queue pause|resume|status`: stop every worker claiming tasks (of some types, or all)
 * and start again. Tasks are still accepted while paused; running ones finish.
 */
import type { Command } from "commander";
import { z } from "zod";
import { clientFor, printJson } from "./client-options.js";

const ApiPauseSchema = z.object({ taskType: z.string(), reason: z.string(), pausedAt: z.string() });
type ApiPause = z.infer<typeof ApiPauseSchema>;
const PausesSchema = z.object({ pauses: z.array(ApiPauseSchema) });

function describe(pauses: ApiPause[]): string {
  if (pauses.length === 0) return "running: no type is paused\n";
  return pauses.map((p) => `paused ${p.taskType === "*" ? "every type" : p.taskType}  since ${p.pausedAt}${p.reason ? `  (${p.reason})` : ""}\n`).join("");
}

export function registerQueueCommands(program: Command): void {
  const queue = program.command("queue").description("pause and resume the queue for every worker (tasks are still accepted while paused)");

  queue
    .command("pause")
    .description("stop claiming tasks of these types (default: every type); running ones finish")
    .argument("[types...]", "task types, e.g. claude-code; none: every type")
    .option("--reason <text>", "why, shown with the pause")
    .option("--json", "print the pauses as JSON")
    .action(async (types: string[], flags: { reason?: string; json?: boolean }, command: Command) => {
      const body = { ...(types.length > 0 ? { types } : {}), ...(flags.reason !== undefined ? { reason: flags.reason } : {}) };
      const { pauses } = await clientFor(command).request("POST", "/api/queue/pause", PausesSchema, body);
      if (flags.json) return printJson(pauses);
      process.stdout.write(describe(pauses));
    });

  queue
    .command("resume")
    .description("claim these types again (default: every pause is lifted)")
    .argument("[types...]", "task types (or *) to resume; none: all")
    .option("--json", "print the pauses left as JSON")
    .action(async (types: string[], flags: { json?: boolean }, command: Command) => {
      const { resumed, pauses } = await clientFor(command).request("POST", "/api/queue/resume", PausesSchema.extend({ resumed: z.array(z.string()) }), types.length > 0 ? { types } : {});
      if (flags.json) return printJson(pauses);
      process.stdout.write(`${resumed.length > 0 ? `resumed ${resumed.join(", ")}` : "nothing was paused"}\n${describe(pauses)}`);
    });

  queue
    .command("status")
    .description("what is paused")
    .option("--json", "print JSON")
    .action(async (flags: { json?: boolean }, command: Command) => {
      const { pauses } = await clientFor(command).request("GET", "/api/queue/pauses", PausesSchema);
      if (flags.json) return printJson(pauses);
      process.stdout.write(describe(pauses));
    });
}
