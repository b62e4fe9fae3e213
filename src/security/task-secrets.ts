/**
 * Secrets a CLI task may ask for by name (TASK_SECRETS): a deploy token, a registry password. The
 * operator keeps the value, the environment variable it goes in and the commands it is for; a task
 * names the secret (`secrets: ["deploy"]`), never holds it — so a synced document carries no value,
 * and the secret reaches only the programs it was given to. A secret given to every command would
 * be given to `printenv`, hence each is bound to allow-list-style entries (a program, optionally
 * with the arguments a task's must start with), matched and resolved on the agent's PATH as
 * TASK_COMMAND_ALLOWLIST's are. Values are redacted from every task's output like the agent's own.
 */
import { z } from "zod";
import { jsonText, type FieldError } from "../validation.js";
import { commandProblem } from "../tasks/executors/command-allowlist.js";
import { openEndedEntries } from "./open-ended-entries.js";

const SECRET_NAME = /^[A-Za-z0-9_.-]{1,100}$/;
const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const FORBIDDEN_VARIABLE = /^(LD_|DYLD_)|^(NODE_OPTIONS|PATH|HOME|BASH_ENV|ENV)$/;

const TaskSecretSchema = z.strictObject({
  value: z.string().min(1, "must not be empty"),
  variable: z
    .string()
    .regex(VARIABLE, "must be an environment variable name (letters, digits, '_')")
    .refine((name) => !FORBIDDEN_VARIABLE.test(name), "must not be a variable that changes how programs start (LD_*, DYLD_*, NODE_OPTIONS, PATH, HOME, BASH_ENV, ENV)"),
  commands: z.array(z.string().regex(/^\S+(\s+\S+)*$/, "each entry must be a program, optionally followed by arguments")).min(1, "must name at least one command: a secret given to any command is given to printenv"),
});
export type TaskSecret = z.infer<typeof TaskSecretSchema>;

/** TASK_SECRETS: a JSON object of name → { value, variable, commands }. Never echoed in an error. */
export const TaskSecretsSchema = jsonText('must be a JSON object of name → {"value":"…","variable":"DEPLOY_TOKEN","commands":["/usr/local/bin/deploy"]}').pipe(z.record(z.string().regex(SECRET_NAME, "names must be 1-100 letters, digits, '_', '.', '-'"), TaskSecretSchema, { error: 'must be a JSON object of name → {"value","variable","commands"}' }));
export type TaskSecrets = Record<string, TaskSecret>;

/** Why a CLI task may not have the secrets it names (unknown, not for its command, a variable it sets itself). */
export function secretProblems(task: { command: string; args: readonly string[]; environment: Readonly<Record<string, string>>; secrets?: readonly string[] | undefined }, secrets: TaskSecrets): FieldError[] {
  const problems: FieldError[] = [];
  const known = Object.keys(secrets);
  for (const name of task.secrets ?? []) {
    const secret = secrets[name];
    if (!secret) {
      problems.push({ field: "secrets", value: JSON.stringify(name), message: `is not a secret of this agent (TASK_SECRETS${known.length > 0 ? ` has: ${known.join(", ")}` : " is empty"})` });
      continue;
    }
    const refused = commandProblem(task.command, task.args, secret.commands);
    if (refused) problems.push({ field: "secrets", value: JSON.stringify(name), message: `is not for command '${task.command}': ${refused.replace(/^is not allowed; allowed/, "it is for")}` });
    if (Object.hasOwn(task.environment, secret.variable)) problems.push({ field: "environment", value: JSON.stringify(secret.variable), message: `is the variable secret "${name}" is given in; a task may not set it itself` });
  }
  return problems;
}

/** The values, for the redactor. */
export function secretValues(secrets: TaskSecrets): string[] {
  return Object.values(secrets).map((secret) => secret.value);
}

/**
 * Secrets given to a command that runs whatever its arguments say (`sh`, `node`, `env` …): any
 * task naming one could print it, or send it anywhere — a warning at start, naming them.
 */
export function openEndedSecrets(secrets: TaskSecrets): string | undefined {
  const open = Object.entries(secrets).flatMap(([name, secret]) => openEndedEntries(secret.commands).map((e) => `"${name}" for '${e.entry}' (${e.why})`));
  if (open.length === 0) return undefined;
  return `TASK_SECRETS gives secrets to commands that run anything: ${open.join(", ")} — a task naming the secret can print it or send it anywhere; bind it to a script of your own instead`;
}
