/**
 * A schedule's or an inbound hook's `task` may make a pipeline instead of a task:
 * `{ "pipeline": { title, steps, onFailure? } }`, filled like a task template at each firing or
 * delivery, whose idempotency key becomes the pipeline's. Checked when the schedule or hook is saved:
 * a schedule's as the next firing's pipeline (its values are known), a hook's for its shape (with
 * every placeholder a sample text, as hook tasks are).
 */
import type { ExecutorRegistry } from "../tasks/executors/registry.js";
import { checkTaskTemplateShape } from "../tasks/task-template.js";
import { expandForCheck, namesTemplate } from "../templates/template-reference.js";
import { parseWith, ValidationError, type FieldError } from "../validation.js";
import { linkProblems, parsePipelineRequest, PipelineRequestSchema, planPipeline, type ExpandTemplate } from "./pipeline-request.js";

/**
 * What a schedule's or hook's `task` holds when each firing or delivery makes a pipeline:
 * `{ "pipeline": { title, steps, onFailure? } }` (the idempotency key is the firing's or delivery's).
 */
export function pipelineIn(task: Record<string, unknown>): unknown {
  return "pipeline" in task ? task.pipeline : undefined;
}

/** A `task` that makes a pipeline holds nothing beside it. */
export function besidePipeline(task: Record<string, unknown>): FieldError[] {
  return Object.keys(task)
    .filter((key) => key !== "pipeline")
    .map((key) => ({ field: `task.${key}`, message: 'not beside "pipeline": a task that makes a pipeline holds only { "pipeline": {...} }' }));
}

/**
 * The problems of a pipeline a schedule or hook would make (already filled), named under `prefix`
 * ("task.pipeline."); none when it would be stored as it is.
 */
export async function pipelineProblems(input: unknown, registry: ExecutorRegistry, expand: ExpandTemplate, prefix: string): Promise<FieldError[]> {
  const named = (errors: readonly FieldError[]) => errors.map((e) => ({ ...e, field: `${prefix}${e.field}` }));
  if (typeof input === "object" && input !== null && "idempotencyKey" in input) return named([{ field: "idempotencyKey", message: "is set by the schedule or hook, one per occurrence or delivery" }]);
  try {
    await planPipeline(parsePipelineRequest(input), registry, expand);
    return [];
  } catch (error) {
    if (error instanceof ValidationError) return named(error.errors);
    throw error;
  }
}

/**
 * A hook's pipeline before any delivery fills it: the steps and their links as they are (a step's
 * name cannot be a placeholder), each step's task checked as a hook's task is (checkTaskTemplateShape),
 * or, naming a template, for the template and its parameters.
 */
export async function pipelineTemplateProblems(template: unknown, registry: ExecutorRegistry, expand: ExpandTemplate | undefined): Promise<FieldError[]> {
  const prefix = "task.pipeline.";
  if (typeof template === "object" && template !== null && "idempotencyKey" in template) return [{ field: `${prefix}idempotencyKey`, message: "is set by the schedule or hook, one per occurrence or delivery" }];
  const parsed = parseWith(PipelineRequestSchema, template);
  if (!parsed.ok) return parsed.errors.map((e) => ({ ...e, field: `${prefix}${e.field}` }));
  const links = linkProblems(parsed.value.steps);
  if (links.length > 0) return links.map((e) => ({ ...e, field: `${prefix}${e.field}` }));
  const problems: FieldError[] = [];
  for (const [index, step] of parsed.value.steps.entries()) {
    // Both name the step's fields "task.<field>": moved under the step.
    const errors = namesTemplate(step.task) ? await templateReferenceProblems(step.task, expand) : await checkTaskTemplateShape(step.task, registry);
    problems.push(...errors.map((e) => ({ ...e, field: `${prefix}steps.${index}.${e.field}` })));
  }
  return problems;
}

async function templateReferenceProblems(task: Record<string, unknown>, expand: ExpandTemplate | undefined): Promise<FieldError[]> {
  const expanded = await expandForCheck(task, expand);
  return "errors" in expanded ? expanded.errors : [];
}
