/**
 * `ph-tasks pipeline run|list|show|logs|cancel|retry`: several tasks as named steps that wait for each
 * other, sent at once from a JSON file (see the README's "Pipelines"); `run --wait` follows it to
 * its end and exits like `ph-tasks run`: 0 completed, 1 failed or blocked, 130 cancelled.
 */
import type { Command } from "commander";
import { z } from "zod";
import { ClientError, type AgentClient } from "../client.js";
import { EXIT } from "../exit-codes.js";
import { ago, durationOf, table, truncate } from "../format.js";
import { readJsonObject } from "../input.js";
import { printText } from "../terminal-text.js";
import { clientFor, printJson } from "./client-options.js";
import { paramOptions, templateParamValues, type TemplateFlags } from "./task-template-flags.js";
import { ApiPipelineSchema, exitCodeOf, OneSchema, pipelinePath, SETTLED, stepStatusText, WAIT_POLL_MS, type ApiPipeline } from "./pipeline-api.js";
import { registerPipelineLogsCommand } from "./pipeline-logs-command.js";

export function describePipeline(pipeline: ApiPipeline): string {
  const rows = pipeline.steps.map((step) => [step.name, step.awaitingDecision ? "awaiting decision" : step.status, step.taskId, step.after.join(",") || "-", step.task ? durationOf(step.task) : "-", step.task?.error ? truncate(`${step.task.error.code}: ${step.task.error.message}`, 60) : ""]);
  return `${pipeline.id}  ${pipeline.status}  ${pipeline.title}${pipeline.by !== undefined ? `  (asked by ${pipeline.by})` : ""}\n${table(["STEP", "STATUS", "TASK", "AFTER", "DURATION", "ERROR"], rows)}\n`;
}

/** The request `run` sends: the JSON given, or a reference to a pipeline template with its parameters. */
async function pipelineRequest(request: string | undefined, flags: { file?: string; title?: string } & TemplateFlags): Promise<unknown> {
  if (flags.template !== undefined) {
    if (request !== undefined || flags.file !== undefined) throw new ClientError("give the pipeline as JSON (an argument, --file) or --template <name>, not both", EXIT.usage);
    return { template: flags.template, params: templateParamValues(flags), ...(flags.title !== undefined ? { title: flags.title } : {}) };
  }
  if (flags.title !== undefined || flags.param !== undefined || flags.paramJson !== undefined) throw new ClientError("--title, --param and --param-json go with --template", EXIT.usage);
  const read = await readJsonObject(request, flags.file, "pipeline run");
  if (!read.ok) throw new ClientError(read.error, EXIT.usage);
  return read.value;
}

export function registerPipelineCommands(program: Command): void {
  const pipeline = program.command("pipeline").description("several tasks as named steps that wait for each other, sent at once");

  const run = pipeline
    .command("run")
    .description('send a pipeline: {"title": "...", "steps": [{"name": "build", "task": {...}}, {"name": "test", "after": ["build"], "task": {...}}]}')
    .argument("[request]", "the pipeline as JSON; default: --file, --template, or stdin")
    .option("--file <path>", "read the pipeline from a JSON file")
    .option("--template <name>", "a saved pipeline template (ph-tasks template list), with --param / --param-json")
    .option("--title <title>", "with --template: the pipeline's title instead of the template's")
    .option("--wait", "follow it until it ends (or is blocked); exit 0 completed, 1 failed or blocked, 130 cancelled")
    .option("--json", "print the pipeline as JSON");
  paramOptions(run).action(async (request: string | undefined, flags: { file?: string; title?: string; wait?: boolean; json?: boolean } & TemplateFlags, command: Command) => {
    const client = clientFor(command);
    let { pipeline: sent } = await client.request("POST", "/api/pipelines", OneSchema, await pipelineRequest(request, flags));
    if (!flags.wait) return flags.json ? printJson(sent) : printText(describePipeline(sent));
    if (!flags.json) printText(`pipeline ${sent.id}: ${sent.steps.length} step(s)\n`);
    sent = await follow(client, sent, flags.json ? undefined : (line) => printText(`${line}\n`));
    if (flags.json) printJson(sent);
    else printText(describePipeline(sent));
    process.exitCode = exitCodeOf(sent);
  });

  pipeline
    .command("list")
    .description("the latest pipelines, newest first")
    .option("--limit <n>", "how many (1-200)", "20")
    .option("--status <status>", "only these: pending, running, awaiting_approval, blocked, completed, failed or cancelled")
    .option("--json", "print JSON")
    .action(async (flags: { limit: string; status?: string; json?: boolean }, command: Command) => {
      const query = new URLSearchParams({ limit: flags.limit, ...(flags.status !== undefined ? { status: flags.status } : {}) });
      const { pipelines } = await clientFor(command).request("GET", `/api/pipelines?${query.toString()}`, z.object({ pipelines: z.array(ApiPipelineSchema) }));
      if (flags.json) return printJson(pipelines);
      if (pipelines.length === 0) return printText("no pipelines\n");
      const done = (p: ApiPipeline) => p.steps.filter((s) => s.status === "completed").length;
      printText(`${table(["ID", "STATUS", "STEPS DONE", "CREATED", "TITLE"], pipelines.map((p) => [p.id, p.status, `${done(p)}/${p.steps.length}`, ago(p.createdAt), truncate(p.title, 50)]))}\n`);
    });

  pipeline
    .command("show")
    .description("one pipeline and its steps")
    .argument("<id>")
    .option("--json", "print JSON")
    .action(async (id: string, flags: { json?: boolean }, command: Command) => {
      const { pipeline: found } = await clientFor(command).request("GET", pipelinePath(id), OneSchema);
      if (flags.json) printJson(found);
      else printText(describePipeline(found));
    });

  registerPipelineLogsCommand(pipeline);

  // A verb on the whole pipeline: its answer lists the steps' task ids under `key`.
  const verbs = [
    { verb: "cancel", description: "cancel every step not ended yet", key: "cancelled", done: "cancelled" },
    { verb: "retry", description: "queue again the steps that failed or were cancelled; the steps after them wait for them", key: "retried", done: "queued again" },
  ];
  for (const { verb, description, key, done } of verbs) {
    pipeline
      .command(verb)
      .description(description)
      .argument("<id>")
      .action(async (id: string, _flags: unknown, command: Command) => {
        const answer = await clientFor(command).request("POST", `${pipelinePath(id)}/${verb}`, z.object({ [key]: z.array(z.string()) }), {});
        printText(`${done} ${(answer[key] ?? []).length} step(s)\n`);
      });
  }
}

/** Polls until the pipeline settles, telling each step's change of status. */
async function follow(client: AgentClient, start: ApiPipeline, tell: ((line: string) => void) | undefined): Promise<ApiPipeline> {
  const seen = new Map<string, string>();
  let current = start;
  for (;;) {
    for (const step of current.steps) {
      const status = stepStatusText(step);
      if (seen.get(step.name) !== status) tell?.(`${step.name}: ${status}${step.task?.error ? ` (${step.task.error.code}: ${step.task.error.message})` : ""}`);
      seen.set(step.name, status);
    }
    if (SETTLED.has(current.status)) return current;
    await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
    current = (await client.request("GET", pipelinePath(current.id), OneSchema)).pipeline;
  }
}

