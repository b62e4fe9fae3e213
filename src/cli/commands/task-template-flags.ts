/**
 * `--task '<json>'` / `--task-file <path>` / `--template <name> --param k=v`: the task of
 * `schedule add` and `hook add`; and the `--param` / `--param-json` flags they share with
 * `submit template`.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { ClientError } from "../client.js";
import { EXIT } from "../exit-codes.js";
import { parseEnvPairs, readJsonObject } from "../input.js";

export interface TemplateFlags {
  template?: string;
  param?: string[];
  paramJson?: string[];
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Adds --param and --param-json to a command. */
export function paramOptions(command: Command): Command {
  return command
    .option("--param <key=value>", "a parameter of the template, as text (repeatable)", collect)
    .option("--param-json <key=json>", "a parameter as a JSON value: a number, true, a list (repeatable)", collect);
}

/** The parameters from --param (text) and --param-json (JSON values). */
export function templateParamValues(flags: TemplateFlags): Record<string, unknown> {
  const text = parseEnvPairs(flags.param ?? []);
  if (!text.ok) throw new ClientError(text.error.replace("--env: expected NAME=value", "--param: expected key=value"), EXIT.usage);
  const json = parseEnvPairs(flags.paramJson ?? []);
  if (!json.ok) throw new ClientError(json.error.replace("--env: expected NAME=value", "--param-json: expected key=<json>"), EXIT.usage);
  const params: Record<string, unknown> = { ...text.value };
  for (const [key, value] of Object.entries(json.value)) {
    try {
      params[key] = JSON.parse(value) as unknown;
    } catch (error) {
      throw new ClientError(`--param-json ${key}: not valid JSON (${(error as Error).message})`, EXIT.usage);
    }
  }
  return params;
}

/** The task from --task (JSON), --task-file or --template with its params; exactly one. */
export function taskTemplate(flags: { task?: string; taskFile?: string } & TemplateFlags): unknown {
  const given = [flags.task, flags.taskFile, flags.template].filter((v) => v !== undefined).length;
  if (given !== 1) throw new ClientError("give the task with --task '<json>', --task-file <path> or --template <name> (one of them)", EXIT.usage);
  if (flags.template !== undefined) return { template: flags.template, params: templateParamValues(flags) };
  let text = flags.task ?? "";
  if (flags.taskFile !== undefined) {
    try {
      text = readFileSync(flags.taskFile, "utf8");
    } catch (error) {
      throw new ClientError(`--task-file: cannot read ${flags.taskFile}: ${(error as Error).message}`, EXIT.usage);
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ClientError(`${flags.task !== undefined ? "--task" : "--task-file"}: not valid JSON (${(error as Error).message})`, EXIT.usage);
  }
}

/** What a schedule's firing or a hook's delivery makes: a pipeline from --pipeline-file, or the task of --task / --task-file / --template. */
export async function taskOrPipeline(flags: { task?: string; taskFile?: string; pipelineFile?: string } & TemplateFlags): Promise<unknown> {
  if (flags.pipelineFile === undefined) return taskTemplate(flags);
  if (flags.task !== undefined || flags.taskFile !== undefined || flags.template !== undefined) throw new ClientError("give --pipeline-file or a task (--task, --task-file, --template), not both", EXIT.usage);
  const read = await readJsonObject(undefined, flags.pipelineFile, "--pipeline-file", "", "--pipeline-file");
  if (!read.ok) throw new ClientError(read.error, EXIT.usage);
  return { pipeline: read.value };
}
