/**
 * Task templates of schedules and hooks: a task request whose strings may hold "{{path}}"
 * placeholders (rules/template.ts), filled at each firing or delivery. Checked when saved.
 */
import { fillTemplate, PLACEHOLDER } from "../rules/template.js";
import type { FieldError } from "../validation.js";
import type { ExecutorRegistry } from "./executors/registry.js";
import { parseTaskRequest } from "./task-request.js";

/**
 * The field errors of `template` filled from `context`, named "task.<field>". `idempotencyKey` is
 * refused: the schedule or hook sets one per occurrence or delivery.
 */
export function checkTaskTemplate(template: Record<string, unknown>, context: unknown, registry: ExecutorRegistry): FieldError[] {
  if ("idempotencyKey" in template) return [{ field: "task.idempotencyKey", message: "is set by the schedule or hook, one per occurrence or delivery" }];
  const request = parseTaskRequest(fillTemplate(template, context), registry);
  return request.ok ? [] : request.errors.map((e) => ({ ...e, field: e.field === "(root)" ? "task" : `task.${e.field}` }));
}

/** The template with every placeholder replaced by "sample": what a hook's template is checked with before any delivery. */
export function sampleFilled(template: unknown): unknown {
  if (typeof template === "string") return template.replace(PLACEHOLDER, "sample");
  if (Array.isArray(template)) return template.map(sampleFilled);
  if (template !== null && typeof template === "object") return Object.fromEntries(Object.entries(template).map(([key, value]) => [key, sampleFilled(value)]));
  return template;
}
