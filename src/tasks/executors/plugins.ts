/**
 * Task types from outside the agent: TASK_EXECUTOR_PLUGINS names modules (paths, or packages the
 * agent can import) whose default export makes executors. Only whoever configures the agent adds
 * a plugin — it is code, run in the agent's process; documents and API callers can only ask for
 * the task types it adds, and every request is checked by the plugin's own schema first.
 *
 * A plugin module:
 *
 *     export default function (ph) {
 *       return {
 *         type: "http-get",
 *         requestSchema: ph.TaskRequestBaseSchema.extend({ type: ph.z.literal("http-get"), url: ph.z.url() }),
 *         maxConcurrent: 2,            // optional: runs of this type at once, per worker
 *         async execute(task, ctx) {   // ctx: signal, output(), progress(), logger, attempt
 *           const res = await fetch(task.url, { signal: ctx.signal });
 *           if (res.status >= 500) throw ph.retryable("http_5xx", `HTTP ${res.status}`);
 *           return { status: res.status, body: await res.text() };
 *         },
 *       };
 *     }
 *
 * It may return several executors (an array), or a promise of them. Everything wrong with one —
 * a module that cannot be loaded, no factory, a bad type name, a type that exists already, a
 * schema that is no schema — stops start-up with the plugin named, like a bad variable.
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import { ConfigError } from "../../config.js";
import type { Logger } from "../../logger.js";
import { parseWith, type FieldError } from "../../validation.js";
import { TaskRequestBaseSchema, TaskTypeNameSchema } from "../types.js";
import { fatal, retryable, type TaskExecutor } from "./executor.js";
import { RESERVED_TASK_TYPES } from "./registry.js";
import { buildTaskEnvironment } from "./safe-env.js";

/** What a plugin's factory is given. */
export interface PluginContext {
  /** zod as the agent has it: build requestSchema with it (a schema from another copy may not be read right). */
  z: typeof z;
  /** The fields every task request has (type, title, priority, source, ...), to extend. */
  TaskRequestBaseSchema: typeof TaskRequestBaseSchema;
  /** A failure not worth retrying, and one that is (optionally after retryAfterMs). */
  fatal: typeof fatal;
  retryable: typeof retryable;
  /** The environment for a process a task starts: a small safe base, never the agent's secrets. */
  taskEnvironment(extra?: Record<string, string>): Record<string, string>;
  /** TASK_ALLOWED_ROOTS: where a task may work on files. */
  allowedRoots: readonly string[];
  logger: Logger;
}

const SETTING = "TASK_EXECUTOR_PLUGINS";

const PluginExecutorSchema = z.looseObject({
  type: TaskTypeNameSchema,
  requestSchema: z.custom<z.ZodType<Record<string, unknown>>>(
    (value) => typeof value === "object" && value !== null && typeof (value as { safeParse?: unknown }).safeParse === "function",
    "must be a zod schema (build it with the context's z)",
  ),
  execute: z.custom<TaskExecutor["execute"]>((value) => typeof value === "function", "must be a function (task, ctx) => Promise<result object>"),
  defaultPriority: z.int().min(0).max(100).optional(),
  maxConcurrent: z.int().min(1).max(1000).optional(),
});

export interface LoadedPlugins {
  /** The executors, by plugin, in the order named. */
  executors: TaskExecutor[];
  /** Per-type caps the plugins asked for (maxConcurrent). */
  typeConcurrency: Record<string, number>;
}

/**
 * Loads every plugin named; throws a ConfigError naming each plugin that could not be loaded and
 * why. `taken`: the task types the agent has already (a plugin cannot replace one). Called before
 * the agent opens anything, so a bad plugin stops it at once.
 */
export async function loadExecutorPlugins(specifiers: readonly string[], context: Pick<PluginContext, "allowedRoots" | "logger">, taken: readonly string[], cwd = process.cwd()): Promise<LoadedPlugins> {
  const full: PluginContext = { ...context, z, TaskRequestBaseSchema, fatal, retryable, taskEnvironment: (extra = {}) => buildTaskEnvironment(extra) };
  const errors: FieldError[] = [];
  const loaded: LoadedPlugins = { executors: [], typeConcurrency: {} };
  const types = new Set(taken);
  for (const specifier of specifiers) {
    const problem = (message: string) => errors.push({ field: SETTING, message: `${specifier}: ${message}` });
    let made: unknown;
    try {
      const module = (await import(moduleUrl(specifier, cwd))) as { default?: unknown };
      if (typeof module.default !== "function") {
        problem("the module's default export must be a function (context) => executor(s)");
        continue;
      }
      made = await (module.default as (ctx: PluginContext) => unknown)(full);
    } catch (error) {
      problem(`could not be loaded: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    const candidates = Array.isArray(made) ? made : [made];
    if (candidates.length === 0) problem("made no executor");
    candidates.forEach((candidate, index) => {
      const where = candidates.length > 1 ? `executor #${index}: ` : "";
      const parsed = parseWith(PluginExecutorSchema, candidate);
      if (!parsed.ok) {
        for (const e of parsed.errors) problem(`${where}${e.field}: ${e.message}${e.value !== undefined ? ` (got ${e.value})` : ""}`);
        return;
      }
      const executor = candidate as TaskExecutor;
      if (RESERVED_TASK_TYPES.has(executor.type)) {
        problem(`${where}task type '${executor.type}' is reserved: a task document of that type asks for a pipeline`);
        return;
      }
      if (types.has(executor.type)) {
        problem(`${where}task type '${executor.type}' exists already (the agent has ${[...types].join(", ")})`);
        return;
      }
      types.add(executor.type);
      loaded.executors.push(executor);
      if (parsed.value.maxConcurrent !== undefined) loaded.typeConcurrency[executor.type] = parsed.value.maxConcurrent;
    });
  }
  if (errors.length > 0) throw new ConfigError(errors);
  return loaded;
}

/** A path (absolute, or relative to the agent's working directory) or a package name. */
function moduleUrl(specifier: string, cwd: string): string {
  if (specifier.startsWith(".") || path.isAbsolute(specifier)) return pathToFileURL(path.resolve(cwd, specifier)).href;
  return specifier;
}
