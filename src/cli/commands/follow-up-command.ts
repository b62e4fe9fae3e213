/**
 * `ph-tasks follow-up <task id> [prompt]`: continues a Claude task's conversation — a new task of
 * the same type, with that task's project, model and limits, whose prompt is the next turn
 * (POST /api/tasks/:id/follow-up). The prompt may come on stdin.
 */
import type { Command } from "commander";
import { z } from "zod";
import { ApiTaskSchema, ClientError } from "../client.js";
import { EXIT } from "../exit-codes.js";
import { readStdin } from "../input.js";
import { clientFor, printJson } from "./client-options.js";
import { printText } from "../terminal-text.js";

interface FollowUpFlags {
  title?: string;
  model?: string;
  maxTurns?: string;
  maxBudgetUsd?: string;
  json?: boolean;
}

/** A whole number or an amount as given: the agent checks the range and names the field. */
function numberFlag(flag: string, text: string | undefined, pattern: RegExp): number | undefined {
  if (text === undefined) return undefined;
  if (!pattern.test(text.trim())) throw new ClientError(`${flag}: expected a number, got '${text}'`, EXIT.usage);
  return Number(text);
}

export function registerFollowUpCommand(program: Command): void {
  program
    .command("follow-up")
    .description("continue a Claude task's conversation: ph-tasks follow-up <task id> \"now also …\" (or the prompt on stdin)")
    .argument("<id>", "the claude-code or claude-agent task to continue")
    .argument("[prompt]", "the next turn (default: read from stdin)")
    .option("--title <title>", "task title (default: Follow-up: <its title>)")
    .option("--model <model>", "model (default: the earlier task's)")
    .option("--max-turns <n>", "turn limit (default: the earlier task's)")
    .option("--max-budget-usd <usd>", "the most the run may spend (default: the earlier task's)")
    .option("--json", "print the created task as JSON")
    .action(async (id: string, given: string | undefined, flags: FollowUpFlags, command: Command) => {
      const prompt = given ?? (process.stdin.isTTY ? "" : await readStdin());
      if (!prompt.trim()) throw new ClientError("follow-up: give the prompt as an argument or on stdin", EXIT.usage);
      const maxTurns = numberFlag("--max-turns", flags.maxTurns, /^\d+$/);
      const maxBudgetUsd = numberFlag("--max-budget-usd", flags.maxBudgetUsd, /^\d+(\.\d+)?$/);
      const body = {
        prompt,
        ...(flags.title !== undefined ? { title: flags.title } : {}),
        ...(flags.model !== undefined ? { model: flags.model } : {}),
        ...(maxTurns !== undefined ? { maxTurns } : {}),
        ...(maxBudgetUsd !== undefined ? { maxBudgetUsd } : {}),
      };
      const { task } = await clientFor(command).request("POST", `/api/tasks/${encodeURIComponent(id)}/follow-up`, z.object({ task: ApiTaskSchema }), body);
      if (flags.json) printJson(task);
      else printText(`${task.id}\n`);
      process.stderr.write(`[ph-tasks] follow-up ${task.id} of ${id} (${task.status}); follow it with: ph-tasks logs ${task.id} --follow\n`);
    });
}
