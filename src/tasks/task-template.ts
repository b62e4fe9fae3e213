/**
 * Task templates of schedules and hooks: a task request whose strings may hold "{{path}}"
 * placeholders (rules/template.ts), filled at each firing or delivery. Checked when saved.
 */
import { PLACEHOLDER, WHOLE } from "../rules/template.js";
import type { FieldError } from "../validation.js";
import type { ExecutorRegistry } from "./executors/registry.js";
import { requestProblems } from "./admit-tasks.js";
import { parseTaskRequest } from "./task-request.js";

/** Fields a schedule's or hook's task may not set: `idempotencyKey` (set per occurrence or delivery). */
export function refusedFields(template: Record<string, unknown>): FieldError[] {
  return "idempotencyKey" in template ? [{ field: "task.idempotencyKey", message: "is set per use: by a schedule or hook (one per occurrence or delivery), or by the request that names the template" }] : [];
}

const named = (errors: readonly FieldError[]): FieldError[] => errors.map((e) => ({ ...e, field: e.field === "(root)" ? "task" : `task.${e.field}` }));

/** The field errors of a filled task request, named "task.<field>". */
export function checkTaskRequestFields(request: unknown, registry: ExecutorRegistry): FieldError[] {
  const parsed = parseTaskRequest(request, registry);
  return parsed.ok ? [] : named(parsed.errors);
}

/**
 * checkTaskRequestFields, then what this agent's policy says of the task (admit-tasks.ts): for a
 * schedule, whose every occurrence would otherwise fail the same way.
 */
export async function checkTaskRequest(request: unknown, registry: ExecutorRegistry): Promise<FieldError[]> {
  const parsed = parseTaskRequest(request, registry);
  return named(parsed.ok ? await requestProblems(registry, parsed.value) : parsed.errors);
}

/**
 * What a template of unknown values (a hook's, a named template's) can be checked for before any
 * value is known: every placeholder filled with "sample", and the errors of fields that are a
 * placeholder as a whole dropped — those take the value's own type (a number, a list) at fill time.
 * Then this agent's policy (admission) on the fields written out in full: a working directory or a
 * command the policy refuses is refused when the template is saved; a field with a placeholder is
 * checked when a delivery or a task fills it.
 */
export async function checkTaskTemplateShape(template: Record<string, unknown>, registry: ExecutorRegistry): Promise<FieldError[]> {
  const whole = new Set<string>();
  const templated: string[] = [];
  const sample = (value: unknown, path: string[]): unknown => {
    if (typeof value === "string") {
      if (WHOLE.test(value)) whole.add(["task", ...path].join("."));
      const filled = value.replace(PLACEHOLDER, "sample");
      if (filled !== value) templated.push(["task", ...path].join("."));
      return filled;
    }
    if (Array.isArray(value)) return value.map((item, i) => sample(item, [...path, String(i)]));
    if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, sample(item, [...path, key])]));
    return value;
  };
  const sampled = sample(template, []) as Record<string, unknown>;
  const refused = refusedFields(sampled);
  if (refused.length > 0) return refused;
  const parsed = parseTaskRequest(sampled, registry);
  if (!parsed.ok) return named(parsed.errors).filter((e) => !whole.has(e.field));
  const filledLater = (field: string) => templated.some((path) => path === field || path.startsWith(`${field}.`));
  return named(await requestProblems(registry, parsed.value)).filter((e) => !filledLater(e.field));
}
