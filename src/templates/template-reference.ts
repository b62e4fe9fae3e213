/**
 * A schedule's or hook's task may name a saved template instead of holding a task of its own:
 * `{ "template": "deploy", "params": { "ref": "{{body.ref}}" }, ...fields }`. The schedule's or
 * delivery's placeholders are filled first (in the params and fields), then the template is
 * expanded as for POST /api/tasks — so a change to the template reaches every schedule and hook
 * that names it.
 *
 * When saved, the reference is checked for what can be known then: the template exists and every
 * parameter it uses is given; a schedule's (whose values are known) is also expanded and checked
 * as a whole task.
 */
import type { FieldError } from "../validation.js";
import { ValidationError } from "../validation.js";

/** A template's kind: a task request, or `{ "pipeline": {...} }` (a pipeline request). */
export type TemplateKind = "task" | "pipeline";

/** What expands a request naming a template of `kind` (task by default; TemplateService.expand). */
export type ExpandTemplate = (input: unknown, kind?: TemplateKind) => Promise<unknown>;

export function namesTemplate(task: Record<string, unknown>): boolean {
  return "template" in task;
}

/**
 * Expands `request` (already filled) for a check at save time: the expanded request, or the
 * errors, named "task.<field>".
 */
export async function expandForCheck(request: unknown, expand: ExpandTemplate | undefined): Promise<{ request: unknown } | { errors: FieldError[] }> {
  if (!expand) return { errors: [{ field: "task.template", message: "named templates are not available on this agent" }] };
  try {
    return { request: await expand(request) };
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return { errors: error.errors.map((e) => ({ ...e, field: e.field === "(root)" ? "task" : `task.${e.field}` })) };
  }
}
