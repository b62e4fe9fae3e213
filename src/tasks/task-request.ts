/**
 * Validating a task request against its type's executor, collecting every problem at once.
 */
import { TaskRequestBaseSchema } from "./types.js";
import type { ExecutorRegistry } from "./executors/registry.js";
import { parseWith, type FieldError, type Parsed } from "../validation.js";

/** A validated request: base fields plus the type's own fields, defaults filled. */
export type TaskRequest = { type: string; title: string; instructions: string } & Record<string, unknown>;

export function parseTaskRequest(input: unknown, registry: ExecutorRegistry): Parsed<TaskRequest> {
  const type = typeof input === "object" && input !== null ? (input as { type?: unknown }).type : undefined;
  const executor = typeof type === "string" ? registry.get(type) : undefined;
  if (executor) {
    const parsed = parseWith(executor.requestSchema, input);
    return parsed.ok ? { ok: true, value: parsed.value as TaskRequest } : parsed;
  }
  // Unknown type: still report every base-field problem, plus what types exist.
  const base = parseWith(TaskRequestBaseSchema.loose(), input);
  const errors: FieldError[] = base.ok ? [] : base.errors.filter((e) => e.field !== "type");
  errors.unshift({
    field: "type",
    message: `must be one of: ${registry.types().join(", ")}`,
    ...(type !== undefined ? { value: JSON.stringify(type) } : {}),
  });
  return { ok: false, errors };
}
