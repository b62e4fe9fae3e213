/**
 * The `ph-tasks` command line. Each command lives in its own file and registers itself here.
 */
import { Command, CommanderError } from "commander";
import { ConfigError } from "../config.js";
import { printNotice } from "./terminal-text.js";
import { EXIT } from "./exit-codes.js";
import { ClientError } from "./client.js";
import { registerHookCommands } from "./commands/hook-commands.js";
import { registerInspectCommands } from "./commands/inspect-commands.js";
import { registerApprovalCommands } from "./commands/approval-commands.js";
import { registerAuditCommand } from "./commands/audit-command.js";
import { registerSpendCommand } from "./commands/spend-command.js";
import { registerBudgetCommands } from "./commands/budget-commands.js";
import { registerLogsCommand } from "./commands/logs-command.js";
import { registerScheduleCommands } from "./commands/schedule-commands.js";
import { registerServeCommand } from "./commands/serve-command.js";
import { registerSubmitCommand } from "./commands/submit-command.js";
import { registerFollowUpCommand } from "./commands/follow-up-command.js";
import { registerConversationCommand } from "./commands/conversation-command.js";
import { registerTemplateCommands } from "./commands/template-commands.js";
import { registerWebhookCommands } from "./commands/webhook-commands.js";
import { registerQueueCommands } from "./commands/queue-commands.js";
import { registerWorkflowFileCommands } from "./commands/workflow-file-commands.js";
import { registerRunCommand } from "./run-command.js";
import { registerDoctorCommand } from "./commands/doctor-command.js";
import { registerStatsCommand } from "./commands/stats-command.js";
import { registerWorkersCommand } from "./commands/workers-command.js";
import { registerPipelineCommands } from "./commands/pipeline-commands.js";
import { registerStoreCommands } from "./commands/store-commands.js";
import { VERSION } from "../version.js";

export function buildProgram(): Command {
  const program = new Command("ph-tasks")
    .description("Powerhouse tasks: run and watch tasks asked for by Powerhouse documents")
    .version(VERSION)
    .option("--url <url>", "agent URL for client commands (default PH_TASKS_URL or http://127.0.0.1:4000)")
    .showHelpAfterError()
    .exitOverride();
  registerServeCommand(program);
  registerSubmitCommand(program);
  registerFollowUpCommand(program);
  registerConversationCommand(program);
  registerInspectCommands(program);
  registerApprovalCommands(program);
  registerAuditCommand(program);
  registerSpendCommand(program);
  registerBudgetCommands(program);
  registerLogsCommand(program);
  registerScheduleCommands(program);
  registerHookCommands(program);
  registerTemplateCommands(program);
  registerPipelineCommands(program);
  registerWebhookCommands(program);
  registerQueueCommands(program);
  registerWorkflowFileCommands(program);
  registerRunCommand(program);
  registerDoctorCommand(program);
  registerStatsCommand(program);
  registerWorkersCommand(program);
  registerStoreCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    } else if (error instanceof ClientError) {
      printNotice(`ph-tasks: ${error.message}\n`);
      process.exitCode = error.exitCode;
    } else if (error instanceof ConfigError) {
      process.stderr.write(`ph-tasks: ${error.message}\n`);
      process.exitCode = EXIT.usage;
    } else {
      printNotice(`ph-tasks: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = EXIT.taskFailed;
    }
  }
}

await main(process.argv);
