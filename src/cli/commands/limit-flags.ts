/**
 * `--cpu-seconds`, `--memory-mb`, `--file-size-mb`, `--open-files`, `--processes`, `--total-memory-mb` of `ph-tasks submit cli |
 * claude-code | claude-agent`: the task's own resource limits (`limits`; the agent refuses more than
 * its TASK_LIMIT_* allow).
 */
import type { Command } from "commander";
import { z } from "zod";
import { parseWith } from "../../validation.js";
import { ClientError } from "../client.js";
import { EXIT } from "../exit-codes.js";

const FLAGS = [
  ["cpuSeconds", "--cpu-seconds <s>", "CPU time each of its processes may use (SIGXCPU, then the task fails with cpu_limit)"],
  ["memoryMb", "--memory-mb <MB>", "memory each of its processes may have (allocations beyond it fail)"],
  ["fileSizeMb", "--file-size-mb <MB>", "largest file it may write (file_size_limit beyond it)"],
  ["openFiles", "--open-files <n>", "files each of its processes may hold open"],
  ["processes", "--processes <n>", "processes and threads it may have at once, all together (process_limit when a refused fork fails it)"],
  ["totalMemoryMb", "--total-memory-mb <MB>", "memory all its processes may use together (total_memory_limit beyond it)"],
] as const;

export function limitOptions(command: Command): Command {
  for (const [, flag, description] of FLAGS) command.option(flag, description);
  return command;
}

const WholeNumber = z.string().regex(/^\d+$/, "expected a whole number").transform(Number);

/** `{ limits: {...} }` for the request, or `{}` when no limit flag was given. The agent checks the ranges. */
export function limitsFromFlags(flags: Record<string, unknown>): { limits?: Record<string, number> } {
  const limits: Record<string, number> = {};
  for (const [name, flag] of FLAGS) {
    const given = flags[name];
    if (given === undefined) continue;
    // Commander hands a flag's value over as a string.
    const parsed = parseWith(WholeNumber, given);
    if (!parsed.ok) throw new ClientError(`${flag.split(" ")[0] ?? flag}: ${parsed.errors[0]?.message ?? "invalid"}, got ${parsed.errors[0]?.value ?? "?"}`, EXIT.usage);
    limits[name] = parsed.value;
  }
  return Object.keys(limits).length > 0 ? { limits } : {};
}
