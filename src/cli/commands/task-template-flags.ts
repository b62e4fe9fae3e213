/** `--task '<json>'` / `--task-file <path>`: the task template of `schedule add` and `hook add`. */
import { readFileSync } from "node:fs";
import { ClientError } from "../client.js";
import { EXIT } from "../exit-codes.js";

/** The task template from --task (JSON) or --task-file; exactly one. */
export function taskTemplate(flags: { task?: string; taskFile?: string }): unknown {
  if ((flags.task === undefined) === (flags.taskFile === undefined)) throw new ClientError("give the task template with --task '<json>' or --task-file <path> (one of them)", EXIT.usage);
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
