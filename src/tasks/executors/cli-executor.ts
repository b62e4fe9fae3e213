/**
 * Runs a CLI task: one program with an args array, no shell, in an allowed working directory,
 * with a safe environment, its stdin input written then closed, output streamed and capped.
 */
import { CliTaskRequestSchema, type CLITask, type JsonObject } from "../types.js";
import { abortCauseOf, fatal, retryable, type ExecutionContext, type TaskExecutor } from "./executor.js";
import { runProcess, type ProcessResult } from "./run-process.js";
import { userEnvironment, type RunUser } from "./run-as-user.js";
import { confinementFailure } from "./confined-launch.js";
import { secretProblems, type TaskSecrets } from "../../security/task-secrets.js";
import { effectiveLimits, limitsInForce, limitsJson, limitsProblems, limitStop, type RunLimits } from "./run-limits.js";
import { commandProblem, resolveAllowedCommand } from "./command-allowlist.js";
import { environmentProblems } from "./environment-allowlist.js";
import { buildTaskEnvironment, DEFAULT_PATH } from "./safe-env.js";
import { resolveWorkingDirectory, workingDirectoryProblem } from "./working-directory.js";
import { describeValue, type FieldError } from "../../validation.js";

export interface CliExecutorOptions {
  /** Working directories must lie inside one of these (after resolving symlinks). */
  allowedRoots: readonly string[];
  /** Programs allowed to run (a name looked up on the agent's PATH, or an absolute path), each optionally with leading arguments ("git status"); empty = any. */
  commandAllowlist?: readonly string[];
  /** Variables a task may set (names, or prefixes ending in "*"); empty = any, unless commandAllowlist is set (then none). */
  environmentAllowlist?: readonly string[];
  killGraceMs: number;
  captureBytes: number;
  /** TASK_CGROUP_ROOT: each run in a cgroup of its own there (run-cgroup.ts); none when undefined. */
  cgroupRoot?: string;
  /** TASK_LIMIT_*: the most a run may have, and what it gets when its task asks for less or nothing. */
  limits?: RunLimits;
  /** TASK_RUN_AS_USER: the account runs have (run-as-user.ts); the agent's when undefined. */
  user?: RunUser | undefined;
  /** TASK_SECRETS: what a task may ask for by name (security/task-secrets.ts). */
  secrets?: TaskSecrets;
  /** Where the safe base environment is copied from (default process.env). */
  agentEnv?: Readonly<Record<string, string | undefined>>;
}

/** What a CLI task run produces; stored as the task's result. */
export function processResultToJson(result: ProcessResult, extra: { timedOut: boolean; cancelled: boolean; limits?: RunLimits; user?: RunUser | undefined }): JsonObject {
  const limits = extra.limits ? limitsJson(extra.limits) : undefined;
  return {
    exitCode: result.exitCode,
    signal: result.signal,
    timedOut: extra.timedOut,
    cancelled: extra.cancelled,
    stdout: result.stdout.text,
    stderr: result.stderr.text,
    stdoutBytes: result.stdout.totalBytes,
    stderrBytes: result.stderr.totalBytes,
    stdoutTruncated: result.stdout.truncated,
    stderrTruncated: result.stderr.truncated,
    durationMs: result.durationMs,
    pid: result.pid ?? null,
    ...(result.cpu ? { cpu: { ...result.cpu } } : {}),
    ...(limits ? { limits } : {}),
    ...(result.totalsHit ? { totalsHit: { ...result.totalsHit } } : {}),
    ...(extra.user ? { runAs: extra.user.name } : {}),
  };
}

export class CliExecutor implements TaskExecutor<CLITask> {
  readonly type = "cli";
  readonly requestSchema = CliTaskRequestSchema;
  readonly defaultPriority = 50;

  constructor(private readonly options: CliExecutorOptions) {}

  private get environmentPolicy() {
    return { commandAllowlist: this.options.commandAllowlist ?? [], environmentAllowlist: this.options.environmentAllowlist ?? [] };
  }

  /** Refused when accepted: a command or environment variable the allow-lists refuse, a working directory outside the roots, limits above the agent's. */
  async admit(task: CLITask): Promise<FieldError[]> {
    const problems: FieldError[] = [];
    const command = commandProblem(task.command, task.args, this.options.commandAllowlist ?? []);
    if (command) problems.push({ field: "command", value: describeValue(task.command), message: command });
    problems.push(...environmentProblems(task.environment, this.environmentPolicy));
    const directory = await workingDirectoryProblem(task.workingDirectory, this.options.allowedRoots);
    if (directory) problems.push({ field: "workingDirectory", value: describeValue(task.workingDirectory ?? "."), message: directory });
    problems.push(...limitsProblems(task.limits, this.options.limits, this.options.cgroupRoot));
    problems.push(...secretProblems(task, this.options.secrets ?? {}));
    return problems;
  }

  /**
   * The safe base and the task's variables; as another user, its HOME (unless the task sets one),
   * USER and LOGNAME; then the secrets it asked for, each in its variable.
   */
  private environment(task: CLITask): Record<string, string> {
    const base = buildTaskEnvironment(task.environment, this.options.agentEnv);
    const user = this.options.user;
    const env = user ? userEnvironment(base, user, task.environment.HOME ?? user.home) : base;
    for (const name of task.secrets ?? []) {
      const secret = this.options.secrets?.[name];
      if (secret) env[secret.variable] = secret.value;
    }
    return env;
  }

  /**
   * The program to spawn: under the command allow-list and under each secret's commands, the
   * absolute path found on the agent's PATH — the same file for all, or the run is refused (a task
   * setting PATH must not carry a secret to a program of its own).
   */
  private async commandToRun(task: CLITask, agentPath: string): Promise<string> {
    const lists = [this.options.commandAllowlist ?? [], ...(task.secrets ?? []).map((name) => this.options.secrets?.[name]?.commands ?? [])].filter((list) => list.length > 0);
    if (lists.length === 0) return task.command;
    const paths = new Set<string>();
    for (const list of lists) paths.add(await resolveAllowedCommand(task.command, task.args, list, agentPath));
    if (paths.size > 1) throw fatal("secret_not_allowed", `command '${task.command}' stands for different programs under the allow-list and the secrets' commands (${[...paths].join(", ")})`);
    return [...paths][0] ?? task.command;
  }

  async execute(task: CLITask, ctx: ExecutionContext): Promise<JsonObject> {
    const agentPath = (this.options.agentEnv ?? process.env).PATH ?? DEFAULT_PATH;
    const [secretProblem] = secretProblems(task, this.options.secrets ?? {});
    if (secretProblem) throw fatal("secret_not_allowed", `${secretProblem.field} ${secretProblem.value ?? ""} ${secretProblem.message}`);
    const command = await this.commandToRun(task, agentPath);
    const [variable] = environmentProblems(task.environment, this.environmentPolicy);
    if (variable) throw fatal("environment_not_allowed", `environment variable ${variable.value ?? ""} ${variable.message}`);
    const cwd = await resolveWorkingDirectory(task.workingDirectory, this.options.allowedRoots);
    // Above the agent's (lowered since the task was accepted): the agent's, never more.
    const limits = effectiveLimits(this.options.limits, task.limits);
    const result = await runProcess({
      command,
      args: task.args,
      cwd,
      env: this.environment(task),
      ...(task.input !== undefined ? { input: task.input } : {}),
      signal: ctx.signal,
      killGraceMs: this.options.killGraceMs,
      ...(this.options.cgroupRoot !== undefined ? { cgroupRoot: this.options.cgroupRoot } : {}),
      limits,
      user: this.options.user,
      captureBytes: this.options.captureBytes,
      onOutput: (stream, data) => ctx.output({ stream, data }),
    });

    if (result.spawnError) {
      const code = result.spawnError.code;
      if (code === "ENOENT") throw fatal("command_not_found", `command not found: '${task.command}' (searched PATH and ${cwd})`);
      if (code === "EACCES" || code === "EPERM") throw fatal("permission_denied", `command cannot be executed (permission denied): '${task.command}'`);
      const confinement = confinementFailure(result.spawnError);
      if (confinement) throw fatal(confinement, `'${task.command}' was not started: ${result.spawnError.message}`);
      throw fatal("spawn_failed", `command '${task.command}' could not be started: ${result.spawnError.message}`);
    }

    const cause = result.aborted ? abortCauseOf(ctx.signal) : undefined;
    const json = processResultToJson(result, { timedOut: cause === "timeout", cancelled: cause === "cancel" || cause === "shutdown", limits, user: this.options.user });
    if (cause === "timeout") throw retryable("timeout", `timed out after ${result.durationMs} ms; process group killed`, { result: json });
    if (cause !== undefined) throw fatal(cause === "cancel" ? "cancelled" : "shutdown", `stopped (${cause}); process group killed`, { result: json });
    if (result.exitCode === 0) return json;
    const stop = limitStop(result, limits);
    if (stop) throw fatal(stop.code, `'${task.command}' ${stop.message}`, { result: json });

    const how = result.exitCode !== null ? `exited with code ${result.exitCode}` : `was killed by ${result.signal ?? "a signal"}`;
    const message = `'${task.command}' ${how}${limitsInForce(limits)}`;
    if (result.exitCode !== null && task.retryExitCodes.includes(result.exitCode)) throw retryable("exit_code", message, { result: json });
    throw fatal("exit_code", message, { result: json });
  }
}
