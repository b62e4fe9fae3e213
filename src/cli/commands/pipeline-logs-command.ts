/**
 * `ph-tasks pipeline logs <id> [--follow]`: each step's output in the pipeline's step order, under
 * a header naming the step and its status. With --follow it waits for each step in turn to start
 * and streams it live until it ends (a step that never runs — cancelled, or held by a blocked
 * pipeline — gets its header only), then exits like `pipeline run --wait`: 0 completed, 1 failed or
 * blocked, 130 cancelled.
 */
import type { Command } from "commander";
import type { AgentClient } from "../client.js";
import { printNotice, printText } from "../terminal-text.js";
import { clientFor } from "./client-options.js";
import { followTask, printStoredLog } from "./logs-command.js";
import { exitCodeOf, getPipeline, SETTLED, WAIT_POLL_MS, type ApiPipeline } from "./pipeline-api.js";

export function registerPipelineLogsCommand(pipeline: Command): void {
  pipeline
    .command("logs")
    .description("each step's output in step order; --follow streams each step live as it runs")
    .argument("<id>")
    .option("-f, --follow", "wait for each step and stream it until it ends; exit 0 completed, 1 failed or blocked, 130 cancelled")
    .action(async (id: string, flags: { follow?: boolean }, command: Command) => {
      const client = clientFor(command);
      let current = await getPipeline(client, id);
      for (let index = 0; index < current.steps.length; index++) {
        // Until the step has started or ended, or the pipeline settled without it (it will not run).
        if (flags.follow) current = await pollUntil(client, current, (p) => p.steps[index]?.status !== "pending" || SETTLED.has(p.status));
        const step = current.steps[index]!;
        printText(`==> ${step.name}: ${step.status} <==\n`);
        if (step.status === "pending" || step.status === "removed" || !step.task) continue;
        if (flags.follow && step.status === "running") await followTask(client, step.taskId);
        else await printStoredLog(client, step.taskId);
      }
      if (!flags.follow) return;
      const end = await pollUntil(client, await getPipeline(client, current.id), (p) => SETTLED.has(p.status));
      printNotice(`[ph-tasks] pipeline ${end.status}\n`);
      process.exitCode = exitCodeOf(end);
    });
}

/** The pipeline, read again every WAIT_POLL_MS until `done` says so. */
async function pollUntil(client: AgentClient, start: ApiPipeline, done: (pipeline: ApiPipeline) => boolean): Promise<ApiPipeline> {
  let current = start;
  while (!done(current)) {
    await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
    current = await getPipeline(client, current.id);
  }
  return current;
}
