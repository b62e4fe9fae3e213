/**
 * A step's result handed to the steps after it: `{{steps.<name>.result.<path>}}` (a field of the
 * step's task result, e.g. `result.stdout`, `result.exitCode`) or `{{steps.<name>.json.<path>}}`
 * (its stdout read as JSON) in a later step's task. Checked when the pipeline is asked for
 * (stepReferenceProblems), filled when the step runs, from the results as they are then — a retried
 * step's new result included (fillStepResults).
 *
 * Where: only in what a run reads as data — `instructions`, `input` (a command's stdin), `args`,
 * `environment` values, `prompt` — never in what the policy decides on (the command, its working
 * directory, the task's type, secrets, limits, flags): those are checked before anything is stored,
 * and an earlier step's output must not pick them. A reference names a step this one waits for
 * (through `after`, directly or not), so the value is there when it runs.
 *
 * Text goes in as it is, but for the trailing line ends of a string (as a shell's `$(...)` drops
 * them: `echo 1.2.3` hands on "1.2.3"); numbers and booleans as text, anything else as JSON. A
 * path the result does not have fails the step (fatal, `step_result_missing`) naming the step, the
 * path and what the result has: a value silently empty would run a command with the wrong input.
 */
import { valueAt } from "../rules/template.js";
import { pipelineIdOf, type PipelineRow, type StoredStep } from "../store/sql/pipelines/pipeline-row.js";
import type { Task, TaskError } from "../tasks/types.js";
import { describeValue, type FieldError } from "../validation.js";

/** Any placeholder that starts like a step reference (to refuse the ones that are not one). */
const STEP_PLACEHOLDER = /\{\{\s*steps\b[^}]*\}\}/g;
const STARTS_A_STEP_PLACEHOLDER = /\{\{\s*steps\b/;
/** `{{steps.<name>.result|json(.<path>)}}`: the name, the source, the path (may be empty). */
const STEP_REFERENCE = /^\{\{\s*steps\.([a-z][a-z0-9_-]{0,39})\.(result|json)((?:\.[\w$-]+)*)\s*\}\}$/;
/** A filled argument or variable longer than this fails the step: Linux takes none longer (MAX_ARG_STRLEN). */
const MAX_FILLED_CHARS = 131_072;

/** Where a reference may stand, as the path of a string in the task request. */
function referenceAllowedAt(path: readonly string[]): boolean {
  const [first, second, ...rest] = path;
  if (rest.length > 0) return false;
  if (second === undefined) return first === "instructions" || first === "input" || first === "prompt";
  return first === "args" || first === "environment";
}
const ALLOWED = "instructions, input, prompt, an element of args or a value of environment";

interface Reference {
  step: string;
  source: "result" | "json";
  path: string;
}

function parseReference(placeholder: string): Reference | undefined {
  const match = STEP_REFERENCE.exec(placeholder);
  if (!match) return undefined;
  return { step: match[1] ?? "", source: match[2] === "json" ? "json" : "result", path: (match[3] ?? "").slice(1) };
}

/** Every string of a task request with its path (to find the references where none may stand). */
function* strings(value: unknown, path: string[] = []): Generator<{ path: string[]; text: string }> {
  if (typeof value === "string") yield { path, text: value };
  else if (Array.isArray(value)) for (const [i, item] of value.entries()) yield* strings(item, [...path, String(i)]);
  else if (value !== null && typeof value === "object") for (const [key, item] of Object.entries(value)) yield* strings(item, [...path, key]);
}

/** The strings of a task where a reference may stand, with their paths (see referenceAllowedAt). */
function* referenceFields(task: Record<string, unknown>): Generator<{ path: string[]; text: string }> {
  for (const key of ["instructions", "input", "prompt"]) {
    const value = task[key];
    if (typeof value === "string") yield { path: [key], text: value };
  }
  if (Array.isArray(task.args)) for (const [i, arg] of task.args.entries()) if (typeof arg === "string") yield { path: ["args", String(i)], text: arg };
  const environment = task.environment;
  if (environment !== null && typeof environment === "object" && !Array.isArray(environment)) {
    for (const [name, value] of Object.entries(environment)) if (typeof value === "string") yield { path: ["environment", name], text: value };
  }
}

/** Whether a task holds a step reference where one is filled (only those tasks read their steps' results). */
export function hasStepReferences(task: Record<string, unknown>): boolean {
  for (const { text } of referenceFields(task)) if (STARTS_A_STEP_PLACEHOLDER.test(text)) return true;
  return false;
}

/** The steps `name` waits for, directly or through others. */
function waitedFor(steps: readonly { name: string; after?: readonly string[] | undefined }[], name: string): Set<string> {
  const after = new Map(steps.map((step) => [step.name, step.after ?? []]));
  const seen = new Set<string>();
  const visit = (step: string) => {
    for (const before of after.get(step) ?? []) {
      if (seen.has(before)) continue;
      seen.add(before);
      visit(before);
    }
  };
  visit(name);
  return seen;
}

/**
 * The problems of each step's references, named `<prefix(index)>.<field>`: one that is not a step
 * reference, one where the policy decides, one to a step this one does not wait for.
 */
export function stepReferenceProblems(steps: readonly { name: string; after?: readonly string[] | undefined; task: unknown }[], prefix: (index: number) => string): FieldError[] {
  const problems: FieldError[] = [];
  steps.forEach((step, index) => {
    const before = waitedFor(steps, step.name);
    for (const { path, text } of strings(step.task)) {
      for (const placeholder of text.match(STEP_PLACEHOLDER) ?? []) {
        const field = `${prefix(index)}.${path.join(".")}`;
        const reference = parseReference(placeholder);
        if (!reference) problems.push({ field, message: "is not a step reference: write {{steps.<name>.result.<path>}} or {{steps.<name>.json.<path>}}", value: describeValue(placeholder) });
        else if (!referenceAllowedAt(path)) problems.push({ field, message: `may not hold a step's result (the policy decides on it before anything runs): only ${ALLOWED} may`, value: describeValue(placeholder) });
        else if (!before.has(reference.step)) problems.push({ field, message: `names step '${reference.step}', which this step does not wait for (add it to after${before.size > 0 ? `; it waits for ${[...before].join(", ")}` : ""})`, value: describeValue(placeholder) });
      }
    }
  });
  return problems;
}

/** What filling reads: a pipeline, and its steps' tasks' statuses and results. */
export interface StepResultSource {
  pipeline(id: string): Promise<PipelineRow | undefined>;
  results(taskIds: readonly string[]): Promise<Map<string, { status: string; result: unknown }>>;
}

/**
 * The task with its step references filled from the results of the steps it names, or the error
 * that fails it. A task that is not a step of the pipeline its tag names (a tag given by hand) is
 * left as it is: only a pipeline's own steps read its results.
 */
export async function fillStepResults(task: Task, source: StepResultSource): Promise<{ task: Task } | { error: TaskError }> {
  const pipelineId = pipelineIdOf(task);
  const pipeline = pipelineId ? await source.pipeline(pipelineId) : undefined;
  const self = pipeline?.steps.find((step) => step.taskId === task.id);
  if (!pipeline || !self) return { task };
  const byName = new Map(pipeline.steps.map((step) => [step.name, step]));
  const before = waitedFor(pipeline.steps, self.name);
  const results = await source.results(pipeline.steps.filter((step) => before.has(step.name)).map((step) => step.taskId));
  const failure = (message: string): { error: TaskError } => ({ error: { kind: "fatal", code: "step_result_missing", message } });
  let problem: string | undefined;
  const fill = (text: string, path: string[]): string => {
    const filled = text.replace(STEP_PLACEHOLDER, (placeholder) => {
      const reference = parseReference(placeholder);
      const step = reference && before.has(reference.step) ? byName.get(reference.step) : undefined;
      if (!reference || !step) return placeholder; // checked when asked for; left as written
      const value = referencedValue(reference, step, results.get(step.taskId));
      if (typeof value !== "string") problem ??= `${path.join(".")}: ${value.problem}`;
      return typeof value === "string" ? value : "";
    });
    // A command's argument or variable longer than the kernel takes would fail to start, less clearly; the
    // other fields' limits are their schemas', checked again before the run.
    if (filled !== text && (path[0] === "args" || path[0] === "environment") && filled.length > MAX_FILLED_CHARS) problem ??= `${path.join(".")}: filled from a step's result it is ${filled.length} characters long; at most ${MAX_FILLED_CHARS}`;
    return filled;
  };
  // Only where a reference may stand: the rest of the task, its dates included, stays as it is.
  const own = task as Record<string, unknown>;
  const filled: Record<string, unknown> = { ...own, ...(Array.isArray(own.args) ? { args: [...(own.args as unknown[])] } : {}), ...(typeof own.environment === "object" ? { environment: { ...own.environment } } : {}) };
  for (const { path, text } of referenceFields(task)) {
    if (!STARTS_A_STEP_PLACEHOLDER.test(text)) continue;
    const [key, inner] = path as [string, string | undefined];
    if (inner === undefined) filled[key] = fill(text, path);
    else (filled[key] as Record<string, unknown>)[inner] = fill(text, path);
  }
  return problem ? failure(problem) : { task: filled as Task };
}

/** The text a reference stands for, or why there is none. */
function referencedValue(reference: Reference, step: StoredStep, state: { status: string; result: unknown } | undefined): string | { problem: string } {
  const written = `{{steps.${reference.step}.${reference.source}${reference.path ? `.${reference.path}` : ""}}}`;
  if (!state) return { problem: `${written}: step ${reference.step}'s task ${step.taskId} is no longer stored` };
  if (state.status !== "completed") return { problem: `${written}: step ${reference.step} is ${state.status}, not completed` };
  let root: unknown = state.result;
  if (reference.source === "json") {
    const stdout = valueAt(state.result, "stdout");
    try {
      root = JSON.parse(typeof stdout === "string" ? stdout : "");
    } catch (error) {
      return { problem: `${written}: step ${reference.step}'s stdout is not JSON (${error instanceof Error ? error.message : String(error)})` };
    }
  }
  const value = reference.path ? valueAt(root, reference.path) : root;
  if (value === undefined) {
    const has = root !== null && typeof root === "object" ? Object.keys(root).slice(0, 20).join(", ") : typeof root;
    return { problem: `${written}: step ${reference.step}'s ${reference.source} has no ${reference.path || "value"} (it has: ${has || "nothing"})` };
  }
  if (value === null) return "";
  if (typeof value === "string") return value.replace(/(\r?\n)+$/, "");
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

/** A StepResultSource over the pipelines' table and the tasks'. */
export function stepResultsFrom(store: { get(id: string): Promise<PipelineRow | undefined>; tasks(ids: readonly string[]): Promise<{ id: string; status: string; result: unknown }[]> }): StepResultSource {
  return {
    pipeline: (id) => store.get(id),
    results: async (ids) => new Map((await store.tasks(ids)).map((row) => [row.id, { status: row.status, result: row.result }])),
  };
}
