/**
 * A schedule's or an inbound hook's `task` may make a pipeline instead of a task:
 * `{ "pipeline": { title, steps, onFailure? } }`, filled like a task template at each firing or
 * delivery, whose idempotency key becomes the pipeline's — or name a pipeline template:
 * `{ "pipeline": { "template": "release", "params": {...} } }`. Checked when the schedule or hook is saved:
 * a schedule's as the next firing's pipeline (its values are known), a hook's for its shape (with
 * every placeholder a sample text, as hook tasks are).
 */
import type { ExecutorRegistry } from "../tasks/executors/registry.js";
import { checkTaskTemplateShape, refusedFields } from "../tasks/task-template.js";
import { expandForCheck, namesTemplate } from "../templates/template-reference.js";
import { isPlainObject, ValidationError, type FieldError } from "../validation.js";
import { parsePipelineRequest, planPipeline, type ExpandTemplate } from "./pipeline-request.js";

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

/** What a schedule or hook says of its last firing or delivery: the task's id, or the pipeline's. */
export function lastMade(task: Record<string, unknown>, lastId: string | null): { lastTaskId: string | null; lastPipelineId: string | null } {
  // A schedule or hook that makes pipelines keeps the last one's id where a task's would be.
  return pipelineIn(task) === undefined ? { lastTaskId: lastId, lastPipelineId: null } : { lastTaskId: null, lastPipelineId: lastId };
}

const PREFIX = "task.pipeline.";
const named = (errors: readonly FieldError[]) => errors.map((e) => ({ ...e, field: `${PREFIX}${e.field}` }));

/** The schedule's or hook's idempotency key is the pipeline's: one of its own is refused (as for a task). */
function ownKey(pipeline: unknown): FieldError[] {
  const refused = typeof pipeline === "object" && pipeline !== null ? refusedFields(pipeline as Record<string, unknown>) : [];
  return refused.map((e) => ({ ...e, field: `${PREFIX}idempotencyKey` }));
}

/**
 * The problems of a pipeline a schedule or hook would make (already filled), named under
 * "task.pipeline."; none when it would be stored as it is.
 */
export async function pipelineProblems(input: unknown, registry: ExecutorRegistry, expand: ExpandTemplate | undefined): Promise<FieldError[]> {
  const key = ownKey(input);
  if (key.length > 0) return key;
  let request = input;
  if (isPlainObject(input) && namesTemplate(input)) {
    const expanded = await expandForCheck(input, expand && ((reference) => expand(reference, "pipeline")));
    if ("errors" in expanded) return underPipeline(expanded.errors);
    request = expanded.request;
  }
  try {
    await planPipeline(parsePipelineRequest(request), registry, expand ?? ((step) => Promise.resolve(step)));
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
  const key = ownKey(template);
  if (key.length > 0) return key;
  // A pipeline template named: it exists and every parameter it uses is given (its steps were checked when it was saved).
  if (isPlainObject(template) && namesTemplate(template)) return underPipeline(await templateReferenceProblems(template, expand && ((reference) => expand(reference, "pipeline"))));
  let request;
  try {
    request = parsePipelineRequest(template);
  } catch (error) {
    if (error instanceof ValidationError) return named(error.errors);
    throw error;
  }
  const problems: FieldError[] = [];
  for (const [index, step] of request.steps.entries()) {
    // Both name the step's fields "task.<field>": moved under the step.
    const errors = namesTemplate(step.task) ? await templateReferenceProblems(step.task, expand) : await checkTaskTemplateShape(step.task, registry);
    problems.push(...named(errors.map((e) => ({ ...e, field: `steps.${index}.${e.field}` }))));
  }
  return problems;
}

async function templateReferenceProblems(task: Record<string, unknown>, expand: ExpandTemplate | undefined): Promise<FieldError[]> {
  const expanded = await expandForCheck(task, expand);
  return "errors" in expanded ? expanded.errors : [];
}

/** expandForCheck's errors ("task.<field>") moved under "task.pipeline.". */
const underPipeline = (errors: readonly FieldError[]) => errors.map((e) => ({ ...e, field: e.field.startsWith("task.") ? `${PREFIX}${e.field.slice(5)}` : e.field }));
