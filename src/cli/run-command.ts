/**
 * `ph-tasks run <type> ...`: one task through its executor in this process, no server, output
 * live, a one-line summary, and the task's exit status.
 */
import type { Command } from "commander";
import { z } from "zod";
import { loadConfig } from "../config.js";
import { silentLogger } from "../logger.js";
import type { AttemptOutcome } from "../tasks/execute-attempt.js";
import { formatFieldErrors, parseWith } from "../validation.js";
import { EXIT, exitCodeOfOutcome } from "./exit-codes.js";
import { parseEnvPairs, readStdin } from "./input.js";
import { limitOptions, limitsFromFlags } from "./commands/limit-flags.js";

const RunCliFlagsSchema = z.object({
  cwd: z.string().optional(),
  env: z.array(z.string()).default([]),
  input: z.string().optional(),
  stdin: z.boolean().default(false),
  timeout: z.string().optional(),
  title: z.string().optional(),
});

export function summaryLine(outcome: AttemptOutcome): string {
  const result = outcome.result && typeof outcome.result === "object" && !Array.isArray(outcome.result) ? outcome.result : {};
  const exit = typeof result.exitCode === "number" ? ` exit=${result.exitCode}` : "";
  const error = outcome.status !== "completed" ? ` error=${outcome.error.code}: ${outcome.error.message}` : "";
  return `[ph-tasks] ${outcome.status}${exit} duration=${outcome.durationMs}ms${error}`;
}

export function registerRunCommand(program: Command): void {
  const run = program.command("run").description("run one task here and now, without a server");
  limitOptions(run
    .command("cli")
    .description("run a program (no shell): ph-tasks run cli [options] -- <command> [args...]")
    .argument("<command>", "program to run")
    .argument("[args...]", "its arguments")
    .option("--cwd <dir>", "working directory (inside TASK_ALLOWED_ROOTS)")
    .option("--env <NAME=value>", "environment variable for the task (repeatable)", (v: string, all: string[] = []) => [...all, v])
    .option("--input <text>", "text written to the program's stdin")
    .option("--stdin", "pass this command's stdin to the program")
    .option("--timeout <duration>", "time limit, e.g. 30s (default TASK_TIMEOUT_MS)")
    .option("--title <title>", "task title"))
    .action(async (command: string, args: string[], rawFlags: Record<string, unknown>) => {
      // The executors load here, not with every other command (see serve-command.ts).
      const [{ createDefaultRegistry }, { executeAttempt }, { newTask }, { parseTaskRequest }, { TaskAbortReason }] = await Promise.all([
        import("../tasks/executors/index.js"),
        import("../tasks/execute-attempt.js"),
        import("../tasks/new-task.js"),
        import("../tasks/task-request.js"),
        import("../tasks/executors/executor.js"),
      ]);
      const flags = parseWith(RunCliFlagsSchema, rawFlags);
      if (!flags.ok) return fail(`invalid options:\n${formatFieldErrors(flags.errors)}`, EXIT.usage);
      const config = loadConfig();
      // Its runs' cgroups in a directory of this process, like an agent's: reaped if it dies.
      const cgroup = config.TASK_CGROUP_ROOT ? (await import("../tasks/executors/agent-cgroup.js")).openAgentCgroup(config.TASK_CGROUP_ROOT, false) : undefined;
      const runUser = (await import("../tasks/executors/run-as-user.js")).openRunUser(config.TASK_RUN_AS_USER);
      const registry = createDefaultRegistry(config, { ...(cgroup ? { cgroupRoot: cgroup.dir } : {}), runUser });
      const environment = parseEnvPairs(flags.value.env);
      if (!environment.ok) return fail(environment.error, EXIT.usage);
      const input = flags.value.stdin ? await readStdin() : flags.value.input;
      const request = parseTaskRequest(
        {
          type: "cli",
          title: flags.value.title ?? [command, ...args].join(" ").slice(0, 200),
          command,
          args,
          environment: environment.value,
          ...(flags.value.cwd !== undefined ? { workingDirectory: flags.value.cwd } : {}),
          ...(input !== undefined ? { input } : {}),
          ...(flags.value.timeout !== undefined ? { timeoutMs: parseTimeout(flags.value.timeout) } : {}),
          ...limitsFromFlags(rawFlags),
          source: { origin: "cli" },
        },
        registry,
      );
      if (!request.ok) return fail(`invalid task:\n${formatFieldErrors(request.errors)}`, EXIT.usage);
      const executor = registry.get("cli");
      if (!executor) return fail("no cli executor registered", EXIT.taskFailed);
      const task = newTask(request.value, executor, { maxAttempts: 1, timeoutMs: config.TASK_TIMEOUT_MS });
      // Refused like a submitted task (exit 2, the field named), not run to fail.
      const refused = (await executor.admit?.(task)) ?? [];
      if (refused.length > 0) return fail(`invalid task:\n${formatFieldErrors(refused)}`, EXIT.usage);

      const controller = new AbortController();
      const onSignal = () => controller.abort(new TaskAbortReason("cancel"));
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      const outcome = await executeAttempt(executor, task, {
        signal: controller.signal,
        timeoutMs: task.timeoutMs,
        attempt: 1,
        logger: silentLogger(),
        onOutput: (chunk) => (chunk.stream === "stderr" ? process.stderr : process.stdout).write(chunk.data),
      });
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      cgroup?.remove();
      process.stderr.write(`${summaryLine(outcome)}\n`);
      process.exitCode = exitCodeOfOutcome(outcome);
    });
}

function parseTimeout(text: string): number | string {
  const match = /^(\d+)(ms|s|m|h)?$/.exec(text);
  if (!match) return text; // left for the task schema to reject with its message
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? "ms"] ?? 1;
  return Number(match[1]) * unit;
}

function fail(message: string, code: number): void {
  process.stderr.write(`ph-tasks: ${message}\n`);
  process.exitCode = code;
}
