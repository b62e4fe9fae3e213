/**
 * `ph-tasks conversation <task id>`: the conversation a Claude task's last run had, turn by turn —
 * what was asked, what claude answered, the tools it used — as kept for follow-ups
 * (GET /api/tasks/:id/conversation). `--json` prints the API's answer.
 */
import type { Command } from "commander";
import { z } from "zod";
import { clientFor, printJson } from "./client-options.js";
import { printText } from "../terminal-text.js";

const BlockSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("text"), text: z.string() }),
  z.object({ kind: z.literal("tool_use"), name: z.string(), input: z.string() }),
  z.object({ kind: z.literal("tool_result"), isError: z.boolean(), text: z.string() }),
]);
const ConversationSchema = z.object({
  taskId: z.string(),
  sessionId: z.string(),
  bytes: z.number(),
  total: z.number(),
  turns: z.array(z.object({ role: z.enum(["user", "assistant"]), at: z.string().nullable(), blocks: z.array(BlockSchema) })),
});
export type ConversationAnswer = z.infer<typeof ConversationSchema>;

const indent = (text: string) => text.replace(/\n/g, "\n         ");

/** The conversation as lines a person reads: who, when, what. */
export function conversationText(answer: ConversationAnswer): string {
  const lines: string[] = [];
  if (answer.total > answer.turns.length) lines.push(`(the last ${answer.turns.length} of ${answer.total} turns)`);
  for (const turn of answer.turns) {
    const who = turn.role === "user" ? "asked " : "claude";
    const at = turn.at ? new Date(turn.at).toISOString().slice(11, 19) : "        ";
    turn.blocks.forEach((block, index) => {
      const head = index === 0 ? `${who} ${at}` : " ".repeat(15);
      if (block.kind === "text") lines.push(`${head}  ${indent(block.text)}`);
      else if (block.kind === "tool_use") lines.push(`${head}  [tool] ${block.name} ${block.input}`);
      else lines.push(`${head}  [${block.isError ? "tool error" : "tool result"}] ${indent(block.text)}`);
    });
  }
  return `${lines.join("\n")}\n`;
}

export function registerConversationCommand(program: Command): void {
  program
    .command("conversation")
    .description("the conversation a Claude task had, turn by turn (what ph-tasks follow-up continues)")
    .argument("<id>", "a claude-code or claude-agent task")
    .option("--json", "print the turns as JSON")
    .action(async (id: string, flags: { json?: boolean }, command: Command) => {
      const answer = await clientFor(command).request("GET", `/api/tasks/${encodeURIComponent(id)}/conversation`, ConversationSchema);
      if (flags.json) printJson(answer);
      else printText(conversationText(answer));
    });
}
