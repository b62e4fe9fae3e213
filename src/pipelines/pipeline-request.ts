/**
 * A pipeline request: named steps, each a task request (or a template reference) and the steps it
 * waits for. Checked as a whole before anything is stored — the step names and links (no unknown
 * step, no cycle), then each step's task as POST /api/tasks would check it — every problem named
 * by its field (`steps.2.after.0`, `steps.1.task.command`).
 */
import { v7 as uuidv7 } from "uuid";
import { z } from "zod";
import type { ExecutorRegistry } from "../tasks/executors/registry.js";
import { parseTaskRequest } from "../tasks/task-request.js";
import { requestProblems } from "../tasks/admit-tasks.js";
import { PIPELINE_TAG_PREFIX, type StoredStep } from "../store/sql/pipelines/pipeline-row.js";
import { describeValue, isPlainObject, parseWith, ValidationError, type FieldError } from "../validation.js";
import { stepReferenceProblems } from "./step-results.js";
import type { ExpandTemplate } from "../templates/template-reference.js";

export const MAX_STEPS = 50;
/** As a task's dependsOn (types.ts): a step waits for at most this many tasks. */
const MAX_WAITS = 20;
const MAX_TAGS = 20;

const StepNameSchema = z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/, "must be 1-40 lowercase letters, digits, _ and - (starting with a letter)");

const StepSchema = z.strictObject({
  name: StepNameSchema,
  /** Steps of this pipeline that must complete before this one runs. */
  after: z
    .array(StepNameSchema)
    .min(1)
    .max(MAX_WAITS)
    .refine((names) => new Set(names).size === names.length, "must not name a step twice")
    .optional(),
  /** A task request as POST /api/tasks takes it, or { template, params, ...fields }. */
  task: z.record(z.string(), z.unknown(), { error: "must be a task request (an object)" }),
});

export const PipelineRequestSchema = z.strictObject({
  title: z.string().trim().min(1, "must not be empty").max(200),
  /** A pipeline asked for again with the same key is the one stored (200, nothing new). */
  idempotencyKey: z.string().min(1).max(300).optional(),
  /**
   * What a failed step does to the steps after it (unless a step's task says otherwise in its own
   * onDependencyFailure): "cancel" ends them, so the pipeline ends failed; "wait" keeps them
   * waiting until the step is retried and completes.
   */
  onFailure: z.enum(["cancel", "wait"], { error: 'must be "cancel" or "wait"' }).default("cancel"),
  steps: z.array(StepSchema).min(1, "must hold at least one step").max(MAX_STEPS),
});

export type PipelineRequest = z.infer<typeof PipelineRequestSchema>;
type Step = PipelineRequest["steps"][number];

/** What to store: the pipeline's id, its tag, each step's task request and id. */
export interface PipelinePlan {
  id: string;
  tag: string;
  title: string;
  onFailure: PipelineRequest["onFailure"];
  idempotencyKey: string | undefined;
  steps: StoredStep[];
  inputs: Record<string, unknown>[];
}

export const pipelineTag = (id: string) => `${PIPELINE_TAG_PREFIX}${id}`;

export type { ExpandTemplate } from "../templates/template-reference.js";

export function parsePipelineRequest(input: unknown): PipelineRequest {
  const parsed = parseWith(PipelineRequestSchema, input);
  if (!parsed.ok) throw new ValidationError("pipeline", parsed.errors);
  const problems = linkProblems(parsed.value.steps);
  if (problems.length > 0) throw new ValidationError("pipeline", problems);
  return parsed.value;
}

/** Unique names, links to steps that exist, and no cycle. */
export function linkProblems(steps: readonly Step[]): FieldError[] {
  const problems: FieldError[] = [];
  const at = new Map<string, number>();
  steps.forEach((step, index) => {
    const first = at.get(step.name);
    if (first === undefined) at.set(step.name, index);
    else problems.push({ field: `steps.${index}.name`, message: `is the name of steps.${first} too: each step needs its own`, value: describeValue(step.name) });
  });
  steps.forEach((step, index) =>
    step.after?.forEach((name, k) => {
      if (name === step.name) problems.push({ field: `steps.${index}.after.${k}`, message: "names the step itself", value: describeValue(name) });
      else if (!at.has(name)) problems.push({ field: `steps.${index}.after.${k}`, message: `names no step of this pipeline (its steps: ${[...at.keys()].join(", ")})`, value: describeValue(name) });
    }),
  );
  if (problems.length > 0) return problems;
  const cycle = findCycle(steps);
  if (cycle) problems.push({ field: `steps.${at.get(cycle[0] ?? "") ?? 0}.after`, message: `makes a cycle: ${cycle.join(" → ")} (no step of it could ever start)` });
  return problems;
}

/** A cycle among the steps' `after` links, as the names along it (first repeated at the end), or undefined. */
function findCycle(steps: readonly Step[]): string[] | undefined {
  const after = new Map(steps.map((step) => [step.name, step.after ?? []]));
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === "done") return undefined;
    if (state.get(name) === "open") return [...path.slice(path.indexOf(name)), name];
    state.set(name, "open");
    path.push(name);
    for (const next of after.get(name) ?? []) {
      const found = visit(next);
      if (found) return found;
    }
    path.pop();
    state.set(name, "done");
    return undefined;
  };
  for (const step of steps) {
    const found = visit(step.name);
    if (found) return found;
  }
  return undefined;
}

/**
 * Each step's task as it will be enqueued: its template expanded, its id made, the steps it waits
 * for added to its dependsOn, the pipeline's tag to its tags, the pipeline's onFailure as its
 * onDependencyFailure unless it has its own. Every step's problems are collected before throwing.
 */
export async function planPipeline(request: PipelineRequest, registry: ExecutorRegistry, expand: ExpandTemplate): Promise<PipelinePlan> {
  const id = uuidv7();
  const tag = pipelineTag(id);
  const ids = new Map(request.steps.map((step) => [step.name, uuidv7()]));
  const problems: FieldError[] = [];
  const inputs: Record<string, unknown>[] = [];
  /** Each step's task as enqueued, by the step's index (a template that failed to expand has none). */
  const expanded: Record<string, unknown>[] = [];
  const steps: StoredStep[] = [];
  /** The step each step's continueFrom names, by the step's index. */
  const continued = new Map<number, string>();
  for (const [index, step] of request.steps.entries()) {
    const prefix = `steps.${index}.task`;
    let task: Record<string, unknown>;
    try {
      task = asObject(await expand(step.task));
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      problems.push(...error.errors.map((e) => ({ ...e, field: `${prefix}.${e.field}` })));
      continue;
    }
    const given: unknown[] = Array.isArray(task.dependsOn) ? task.dependsOn : [];
    const waits = [...(step.after ?? []).map((name) => ids.get(name) ?? name), ...given];
    const tags = [...(Array.isArray(task.tags) ? (task.tags as unknown[]) : []), tag];
    if (task.idempotencyKey !== undefined) problems.push({ field: `${prefix}.idempotencyKey`, message: "a step takes none: give the pipeline an idempotencyKey instead", value: describeValue(task.idempotencyKey) });
    if (waits.length > MAX_WAITS) problems.push({ field: `steps.${index}.after`, message: `with the task's own dependsOn waits for ${waits.length} tasks: at most ${MAX_WAITS}` });
    if (tags.length > MAX_TAGS) problems.push({ field: `${prefix}.tags`, message: `at most ${MAX_TAGS - 1} in a pipeline's step: the pipeline adds its tag '${tag}'` });
    const input: Record<string, unknown> = { ...task, tags };
    // A step's continueFrom may name a step it waits for: that step's task (its id is made here).
    if (typeof task.continueFrom === "string" && ids.has(task.continueFrom)) {
      continued.set(index, task.continueFrom);
      if (!(step.after ?? []).includes(task.continueFrom)) problems.push({ field: `${prefix}.continueFrom`, message: `names step '${task.continueFrom}', which this step does not wait for: add it to after`, value: describeValue(task.continueFrom) });
      input.continueFrom = ids.get(task.continueFrom);
    }
    if (waits.length > 0) {
      input.dependsOn = waits;
      input.onDependencyFailure = task.onDependencyFailure ?? request.onFailure;
    }
    const parsed = parseTaskRequest(input, registry);
    const own = (errors: FieldError[]) => errors.map((e) => ({ ...e, field: `${prefix}.${e.field}` }));
    // What the policy would never run (a command not allowed, a directory outside the roots) too.
    if (parsed.ok) problems.push(...own(await requestProblems(registry, parsed.value)));
    else problems.push(...own(parsed.errors.filter((e) => !(e.field === "tags" && tags.length > MAX_TAGS))));
    inputs.push(input);
    expanded[index] = input;
    steps.push({ name: step.name, taskId: ids.get(step.name) ?? "", after: step.after ?? [] });
  }
  problems.push(...linkContinuedSteps(request.steps, expanded, continued));
  problems.push(...stepReferenceProblems(request.steps.map((step, index) => ({ ...step, task: expanded[index] ?? {} })), (index) => `steps.${index}.task`));
  if (problems.length > 0) throw new ValidationError("pipeline", problems);
  return { id, tag, title: request.title, onFailure: request.onFailure, idempotencyKey: request.idempotencyKey, steps, inputs };
}

/**
 * A step continuing another's conversation continues one of its own type (claude-code →
 * claude-code), in that step's project when it names none (as a follow-up of a stored task does).
 */
function linkContinuedSteps(steps: PipelineRequest["steps"], expanded: Record<string, unknown>[], continued: ReadonlyMap<number, string>): FieldError[] {
  const indexOf = new Map(steps.map((step, index) => [step.name, index]));
  return [...continued].flatMap(([index, named]): FieldError[] => {
    const [input, other] = [expanded[index], expanded[indexOf.get(named) ?? -1]];
    if (!input || !other) return []; // (a step whose template failed is named already)
    if (input.type !== other.type) {
      return [{ field: `steps.${index}.task.continueFrom`, message: `names step '${named}', a ${String(other.type)} task: a ${String(input.type)} task continues only a ${String(input.type)} task's conversation`, value: describeValue(named) }];
    }
    if (input.type === "claude-code" && input.projectPath === undefined && other.projectPath !== undefined) input.projectPath = other.projectPath;
    return [];
  });
}

function asObject(value: unknown): Record<string, unknown> {
  return isPlainObject(value) ? value : {};
}
