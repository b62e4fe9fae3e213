/**
 * `ph-tasks submit cli|template|json|claude-code|claude-agent ...`: sends a task to a running agent and prints
 * its id (or, with --json, the task object). The agent validates; its field errors are shown.
 */
import type { Command } from "commander";
import { z } from "zod";
import { ApiTaskSchema, ClientError } from "../client.js";
import { EXIT } from "../exit-codes.js";
import { parseEnvPairs, readJsonObject, readStdin } from "../input.js";
import { paramOptions, templateParamValues, type TemplateFlags } from "./task-template-flags.js";
import { formatFieldErrors, parseWith } from "../../validation.js";
import { parseDuration } from "../../config.js";
import { clientFor, printJson } from "./client-options.js";
import { printText } from "../terminal-text.js";
import { limitOptions, limitsFromFlags } from "./limit-flags.js";

const CommonFlagsSchema = z.object({
  title: z.string().optional(),
  after: z.array(z.string().min(1)).optional(),
  at: z.string().optional(),
  in: z.string().optional(),
  startWithin: z.string().optional(),
  ifAfterFails: z.enum(["wait", "cancel"], { error: "--if-after-fails: expected wait or cancel" }).optional(),
  tag: z.array(z.string().min(1)).optional(),
  priority: z.coerce.number().int().optional(),
  maxAttempts: z.coerce.number().int().optional(),
  timeout: z.string().optional(),
  json: z.boolean().default(false),
});

const collect = (value: string, all: string[] = []) => [...all, value];

function common(command: Command): Command {
  return command
    .option("--title <title>", "task title")
    .option("--priority <0-100>", "priority (higher runs first)")
    .option("--max-attempts <n>", "attempts for retryable failures")
    .option("--timeout <duration>", "time limit, e.g. 90s, 10m")
    .option("--after <id>", "run only once this task has completed (repeatable: after all of them)", collect)
    .option("--at <time>", "not before this time: ISO 8601 with a zone, e.g. 2026-12-04T03:00:00Z")
    .option("--in <duration>", "not before this long from now, e.g. 90s, 10m, 2h")
    .option("--start-within <duration>", "cancel it (expired) if it has not started this long from now, e.g. 10m")
    .option("--if-after-fails <what>", "wait (default: until that task is retried and completes) or cancel (this one, at once)")
    .option("--tag <tag>", "a label to find it by: list / retry / cancel --tag (repeatable)", collect)
    .option("--json", "print the created task as JSON");
}

function durationFlag(flag: string, value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new ClientError(`${flag}: expected a duration like 90s, 10m or 2h, got '${value}'`, EXIT.usage);
  return ms;
}

/** --at as given (the agent checks it), or --in from this machine's clock; not both. */
function notBefore(at: string | undefined, within: string | undefined): string | undefined {
  if (at !== undefined && within !== undefined) throw new ClientError("give --at or --in, not both", EXIT.usage);
  return within === undefined ? at : new Date(Date.now() + durationFlag("--in", within)).toISOString();
}

async function send(command: Command, request: Record<string, unknown>, rawFlags: unknown): Promise<void> {
  const flags = parseWith(CommonFlagsSchema, rawFlags);
  if (!flags.ok) throw new ClientError(`invalid options:\n${formatFieldErrors(flags.errors)}`, EXIT.usage);
  const { title, after, ifAfterFails, tag, priority, maxAttempts, timeout, json } = flags.value;
  const runAt = notBefore(flags.value.at, flags.value.in);
  const startBy = flags.value.startWithin === undefined ? undefined : new Date(Date.now() + durationFlag("--start-within", flags.value.startWithin)).toISOString();
  const timeoutMs = timeout !== undefined ? parseDuration(timeout) : undefined;
  if (timeout !== undefined && timeoutMs === undefined) throw new ClientError(`--timeout: expected a duration like 30s or 5m, got '${timeout}'`, EXIT.usage);
  const body = {
    ...request,
    ...(title !== undefined ? { title } : {}),
    ...(priority !== undefined ? { priority } : {}),
    ...(maxAttempts !== undefined ? { maxAttempts } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(after !== undefined ? { dependsOn: after } : {}),
    ...(ifAfterFails !== undefined ? { onDependencyFailure: ifAfterFails } : {}),
    ...(runAt !== undefined ? { runAt } : {}),
    ...(startBy !== undefined ? { startBy } : {}),
    ...(tag !== undefined ? { tags: tag } : {}),
    source: { origin: "cli" },
  };
  const { task } = await clientFor(command).request("POST", "/api/tasks", z.object({ task: ApiTaskSchema }), body);
  if (json) printJson(task);
  else printText(`${task.id}\n`);
  process.stderr.write(`[ph-tasks] submitted ${task.type} task ${task.id} (${task.status}); follow it with: ph-tasks logs ${task.id} --follow\n`);
}

export function registerSubmitCommand(program: Command): void {
  const submit = program.command("submit").description("send a task to the running agent");

  limitOptions(common(submit.command("cli").description("a program, no shell: ph-tasks submit cli [options] -- <command> [args...]")))
    .argument("<command>", "program to run")
    .argument("[args...]", "its arguments")
    .option("--cwd <dir>", "working directory (inside the agent's TASK_ALLOWED_ROOTS)")
    .option("--env <NAME=value>", "environment variable (repeatable)", collect)
    .option("--input <text>", "text for the program's stdin")
    .option("--stdin", "send this command's stdin as the program's input")
    .option("--secret <name>", "a secret of the agent's TASK_SECRETS, by name, for the program it is bound to (repeatable)", collect)
    .action(async (cmd: string, args: string[], flags: { cwd?: string; env?: string[]; input?: string; stdin?: boolean; secret?: string[] } & Record<string, unknown>, command: Command) => {
      const env = parseEnvPairs(flags.env ?? []);
      if (!env.ok) throw new ClientError(env.error, EXIT.usage);
      const input = flags.stdin ? await readStdin() : flags.input;
      await send(command, {
        type: "cli",
        title: [cmd, ...args].join(" ").slice(0, 200),
        command: cmd,
        args,
        environment: env.value,
        ...(flags.cwd !== undefined ? { workingDirectory: flags.cwd } : {}),
        ...(input !== undefined ? { input } : {}),
        ...(flags.secret !== undefined ? { secrets: flags.secret } : {}),
        ...limitsFromFlags(flags),
      }, command.opts());
    });

  paramOptions(common(submit.command("template").description("a task from a named template: ph-tasks submit template <name> --param key=value ..."))
    .argument("<name>", "template name (ph-tasks template list)"))
    .action(async (name: string, flags: TemplateFlags, command: Command) => {
      const params = templateParamValues(flags);
      await send(command, { template: name, params }, command.opts());
    });

  common(submit.command("json").description("any task type (a plugin's too) as a JSON request: ph-tasks submit json '{\"type\":\"...\",\"title\":\"...\"}'"))
    .argument("[request]", "the task request as JSON; default: --file, or stdin")
    .option("--file <path>", "read the request from a JSON file")
    .action(async (request: string | undefined, flags: { file?: string }, command: Command) => {
      const read = await readJsonObject(request, flags.file, "submit json", '{"type":"cli","title":"...","command":"echo"}');
      if (!read.ok) throw new ClientError(read.error, EXIT.usage);
      await send(command, read.value, command.opts());
    });

  common(submit.command("approval").description("a step a person decides (ph-tasks approve / reject): ph-tasks submit approval \"ship it?\" --after <build id>"))
    .argument("<question>", "what is asked (its title)")
    .option("--message <text>", "what the person should know or check first")
    .option("--approvers <names>", "comma-separated: only these may decide it (names of API_USERS tokens or named TASK_AUTHORIZED_WRITERS keys)")
    .option("--required <n>", "how many of the approvers must approve (default 1); one rejection rejects it")
    .action(async (question: string, flags: { message?: string; approvers?: string; required?: string }, command: Command) => {
      const approvers = flags.approvers?.split(",").map((name) => name.trim()).filter((name) => name.length > 0);
      if (flags.required !== undefined && !/^\d+$/.test(flags.required)) throw new ClientError(`--required: expected a whole number, got '${flags.required}'`, EXIT.usage);
      const required = flags.required !== undefined ? { required: Number(flags.required) } : {};
      await send(command, { type: "approval", title: question, ...(flags.message !== undefined ? { message: flags.message } : {}), ...(approvers !== undefined ? { approvers } : {}), ...required }, command.opts());
    });

  limitOptions(common(submit.command("claude-code").description("the Claude Code CLI on a project: ph-tasks submit claude-code --prompt <text>")))
    .requiredOption("--prompt <text>", "what Claude should do")
    .option("--project <dir>", "project directory (inside the agent's TASK_ALLOWED_ROOTS)")
    .option("--model <model>", "model")
    .option("--max-turns <n>", "turn limit")
    .option("--max-budget-usd <usd>", "the most the run may spend, in US dollars (claude stops there)")
    .option("--allowed-tools <tools...>", "tools Claude may use without asking")
    .option("--permission-mode <mode>", "default | acceptEdits | plan | dontAsk | bypassPermissions")
    .option("--continue-from <id>", "continue that claude-code task's conversation (see also: ph-tasks follow-up)")
    .action(async (flags: { prompt: string; project?: string; model?: string; maxTurns?: string; maxBudgetUsd?: string; allowedTools?: string[]; permissionMode?: string; continueFrom?: string } & Record<string, unknown>, command: Command) => {
      await send(command, {
        type: "claude-code",
        title: flags.prompt.slice(0, 80),
        prompt: flags.prompt,
        ...(flags.project !== undefined ? { projectPath: flags.project } : {}),
        ...(flags.model !== undefined ? { model: flags.model } : {}),
        ...(flags.maxTurns !== undefined ? { maxTurns: Number(flags.maxTurns) } : {}),
        ...maxBudgetFromFlag(flags.maxBudgetUsd),
        ...(flags.allowedTools !== undefined ? { allowedTools: flags.allowedTools } : {}),
        ...(flags.permissionMode !== undefined ? { permissionMode: flags.permissionMode } : {}),
        ...(flags.continueFrom !== undefined ? { continueFrom: flags.continueFrom } : {}),
        ...limitsFromFlags(flags),
      }, command.opts());
    });

  limitOptions(common(submit.command("claude-agent").description("a Claude agent that edits Powerhouse documents over MCP: ph-tasks submit claude-agent --prompt <text> (or the prompt on stdin)")))
    .option("--prompt <text>", "what the agent should do (default: read from stdin)")
    .option("--model <model>", "model")
    .option("--max-turns <n>", "turn limit")
    .option("--max-budget-usd <usd>", "the most the run may spend, in US dollars (claude stops there)")
    .option("--mcp-url <url>", "MCP server (one of the agent's CLAUDE_AGENT_MCP_URLS); default: the agent's own /mcp")
    .option("--credentials-ref <name>", "bearer token for the MCP server, by its name in the agent's CLAUDE_AGENT_MCP_CREDENTIALS")
    .option("--continue-from <id>", "continue that claude-agent task's conversation (see also: ph-tasks follow-up)")
    .action(async (flags: { prompt?: string; model?: string; maxTurns?: string; maxBudgetUsd?: string; mcpUrl?: string; credentialsRef?: string; continueFrom?: string } & Record<string, unknown>, command: Command) => {
      const prompt = flags.prompt ?? (process.stdin.isTTY ? "" : await readStdin());
      if (!prompt.trim()) throw new ClientError("claude-agent: give the prompt with --prompt <text> or on stdin", EXIT.usage);
      const mcpConfig = {
        ...(flags.mcpUrl !== undefined ? { serverUrl: flags.mcpUrl } : {}),
        ...(flags.credentialsRef !== undefined ? { credentialsRef: flags.credentialsRef } : {}),
      };
      await send(command, {
        type: "claude-agent",
        title: prompt.trim().split("\n")[0]?.slice(0, 80) ?? "claude-agent",
        prompt,
        mcpConfig,
        ...(flags.continueFrom !== undefined ? { continueFrom: flags.continueFrom } : {}),
        ...(flags.model !== undefined ? { model: flags.model } : {}),
        ...(flags.maxTurns !== undefined ? { maxTurns: Number(flags.maxTurns) } : {}),
        ...maxBudgetFromFlag(flags.maxBudgetUsd),
        ...limitsFromFlags(flags),
      }, command.opts());
    });
}

/** --max-budget-usd as the request's maxBudgetUsd (the agent checks its range). */
function maxBudgetFromFlag(text: string | undefined): { maxBudgetUsd?: number } {
  if (text === undefined) return {};
  if (!/^\d+(\.\d+)?$/.test(text.trim())) throw new ClientError(`--max-budget-usd: expected an amount in US dollars (e.g. 0.50), got '${text}'`, EXIT.usage);
  return { maxBudgetUsd: Number(text) };
}
