/**
 * Validating a task request against its type's executor, collecting every problem at once.
 */
import { TaskRequestBaseSchema } from "./types.js";
import type { ExecutorRegistry } from "./executors/registry.js";
import { describeValue, fieldPath, parseWith, type FieldError, type Parsed } from "../validation.js";

/** A validated request: base fields plus the type's own fields, defaults filled. */
export type TaskRequest = { type: string; title: string; instructions: string } & Record<string, unknown>;

/**
 * Fields holding a NUL character, wherever they are: no program takes one in an argument or an
 * environment variable, and PostgreSQL stores none in text or JSON (the insert would fail).
 */
export function nulFields(value: unknown, path: string[] = [], found: FieldError[] = []): FieldError[] {
  if (found.length >= 20) return found;
  if (typeof value === "string") {
    if (value.includes("\u0000")) found.push({ field: fieldPath(path), message: "must not contain a NUL character (\\u0000)", value: describeValue(value) });
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => nulFields(item, [...path, String(index)], found));
  } else if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      if (key.includes("\u0000")) found.push({ field: fieldPath([...path, key]), message: "a key must not contain a NUL character (\\u0000)" });
      nulFields(item, [...path, key], found);
    }
  }
  return found;
}

export function parseTaskRequest(input: unknown, registry: ExecutorRegistry): Parsed<TaskRequest> {
  const nul = nulFields(input);
  if (nul.length > 0) return { ok: false, errors: nul };
  const type = typeof input === "object" && input !== null ? (input as { type?: unknown }).type : undefined;
  const executor = typeof type === "string" ? registry.get(type) : undefined;
  if (executor) {
    const parsed = parseWith(executor.requestSchema, input);
    if (!parsed.ok) return parsed;
    const value = parsed.value as TaskRequest;
    if (value.onDependencyFailure !== undefined && value.dependsOn === undefined) {
      return { ok: false, errors: [{ field: "onDependencyFailure", message: "only with dependsOn: it says what to do when a dependency fails", value: JSON.stringify(value.onDependencyFailure) }] };
    }
    if (typeof value.startBy === "string" && typeof value.runAt === "string" && Date.parse(value.startBy) <= Date.parse(value.runAt)) {
      return { ok: false, errors: [{ field: "startBy", message: `must be after runAt (${value.runAt}): it could never start`, value: JSON.stringify(value.startBy) }] };
    }
    return { ok: true, value };
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
