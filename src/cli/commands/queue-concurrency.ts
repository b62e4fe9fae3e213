/**
 * `ph-tasks queue concurrency <type> <n>`: at most n tasks of a type run at once across every
 * worker (`--off` lifts it). Shown by `queue status`.
 */
import type { Command } from "commander";
import { z } from "zod";
import { ClientError } from "../client.js";
import { EXIT } from "../exit-codes.js";
import { clientFor, printJson } from "./client-options.js";
import { printText } from "../terminal-text.js";

const ApiCapSchema = z.object({ taskType: z.string(), max: z.number(), running: z.number(), reason: z.string(), setAt: z.string() });
type ApiCap = z.infer<typeof ApiCapSchema>;
export const CapsSchema = z.object({ concurrency: z.array(ApiCapSchema) });

export function describeCaps(caps: ApiCap[]): string {
  return caps.map((c) => `capped ${c.taskType}  at most ${c.max} running at once  (${c.running} running now${c.running >= c.max ? ", full" : ""})${c.reason ? `  ${c.reason}` : ""}\n`).join("");
}

export function registerConcurrencyCommand(queue: Command): void {
  queue
    .command("concurrency")
    .description("run at most N tasks of a type at once, across every worker; --off lifts it")
    .argument("<type>", "a task type, e.g. claude-code")
    .argument("[max]", "tasks running at once, 1 or more")
    .option("--off", "lift the type's cap")
    .option("--reason <text>", "why, shown with the cap")
    .option("--json", "print the cap as JSON")
    .action(async (type: string, max: string | undefined, flags: { off?: boolean; reason?: string; json?: boolean }, command: Command) => {
      const client = clientFor(command);
      const path = `/api/queue/concurrency/${encodeURIComponent(type)}`;
      if (flags.off) {
        if (max !== undefined) throw new ClientError("give a number or --off, not both", EXIT.usage);
        await client.request("DELETE", path, z.object({ removed: z.string() }));
        return void printText(`${type}: no concurrency cap\n`);
      }
      if (max === undefined || !/^\d+$/.test(max)) throw new ClientError(`max: expected a whole number of tasks like 2 (or --off to lift the cap), got ${max === undefined ? "nothing" : `'${max}'`}`, EXIT.usage);
      const body = { max: Number(max), ...(flags.reason !== undefined ? { reason: flags.reason } : {}) };
      const { concurrency } = await client.request("PUT", path, z.object({ concurrency: ApiCapSchema }), body);
      if (flags.json) return printJson(concurrency);
      printText(describeCaps([concurrency]));
    });
}
