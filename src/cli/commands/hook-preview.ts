/**
 * `ph-tasks hook preview <name> --body '<json>'`: the task a delivery would make, filled from the
 * hook's template and checked by the agent, none made — for writing a template without sending
 * signed deliveries. Exit 0 when the task is valid, 1 when not (the fields named), 2 on bad flags.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { z } from "zod";
import { ClientError } from "../client.js";
import { EXIT } from "../exit-codes.js";
import { printText } from "../terminal-text.js";
import { formatFieldErrors } from "../../validation.js";
import { clientFor, printJson } from "./client-options.js";

const PreviewSchema = z.object({ task: z.unknown(), valid: z.boolean(), errors: z.array(z.object({ field: z.string(), message: z.string(), value: z.string().optional() })) });

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** "name=value" pairs → an object; a usage error names the flag and the pair. */
function pairs(flag: string, values: readonly string[]): Record<string, string> {
  return Object.fromEntries(values.map((pair) => {
    const at = pair.indexOf("=");
    if (at <= 0) throw new ClientError(`${flag}: expected name=value, got '${pair}'`, EXIT.usage);
    return [pair.slice(0, at), pair.slice(at + 1)];
  }));
}

function bodyOf(flags: { body?: string; bodyFile?: string; text?: boolean }): unknown {
  if (flags.body !== undefined && flags.bodyFile !== undefined) throw new ClientError("give --body or --body-file, not both", EXIT.usage);
  let text: string | undefined = flags.body;
  if (flags.bodyFile !== undefined) {
    try {
      text = readFileSync(flags.bodyFile, "utf8");
    } catch (error) {
      throw new ClientError(`--body-file: cannot read ${flags.bodyFile}: ${(error as Error).message}`, EXIT.usage);
    }
  }
  if (text === undefined) return null;
  if (flags.text) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ClientError(`--body: not valid JSON (${(error as Error).message}); --text takes it as a text body`, EXIT.usage);
  }
}

export function registerHookPreview(hook: Command): void {
  hook
    .command("preview")
    .description("the task a delivery would make: the template filled and checked by the agent, none made")
    .argument("<name>", "name or id")
    .option("--body <json>", "the delivery's body, JSON")
    .option("--body-file <path>", "the same, from a file")
    .option("--text", "take the body as text, not JSON")
    .option("--header <name=value>", "a header of the delivery (repeatable)", collect)
    .option("--query <name=value>", "a query parameter of the delivery (repeatable)", collect)
    .option("--json", "print { task, valid, errors }")
    .action(async (id: string, flags: { body?: string; bodyFile?: string; text?: boolean; header?: string[]; query?: string[]; json?: boolean }, command: Command) => {
      const input = { body: bodyOf(flags), headers: pairs("--header", flags.header ?? []), query: pairs("--query", flags.query ?? []) };
      const preview = await clientFor(command).request("POST", `/api/hooks/${encodeURIComponent(id)}/preview`, PreviewSchema, input);
      if (flags.json) printJson(preview);
      else printText(`${JSON.stringify(preview.task, null, 2)}\n${preview.valid ? "valid: a delivery like this makes this task\n" : `invalid:\n${formatFieldErrors(preview.errors)}\n`}`);
      if (!preview.valid) throw new ClientError(`hook preview: a delivery like this would be refused (400): ${preview.errors.length} field(s)`, EXIT.taskFailed);
    });
}
