/**
 * Named task templates: saved (create or replace, checked against the executors with every
 * placeholder filled with a sample text) and expanded when a task request names one:
 * `{ "template": "deploy", "params": { "env": "prod" }, ...fields }` becomes the template's task
 * with "{{params.<name>}}" filled in, the request's other fields laid over it. A parameter the
 * template uses and the request leaves out is an error naming it. A pipeline template's task is
 * `{ "pipeline": { title, steps } }` (as a schedule's or hook's), named by a pipeline request.
 */
import { z } from "zod";
import { v7 as uuidv7 } from "uuid";
import { fillTemplate, PLACEHOLDER } from "../rules/template.js";
import { ResourceNameSchema } from "../schedules/schedule-schema.js";
import type { TemplateRow } from "../store/sql/templates/template-row.js";
import type { TemplateStore } from "../store/template-store.js";
import type { ExecutorRegistry } from "../tasks/executors/registry.js";
import { checkTaskTemplateShape } from "../tasks/task-template.js";
import { describeValue, parseWith, ValidationError, type FieldError } from "../validation.js";
import { besidePipeline, pipelineIn, pipelineTemplateProblems } from "../pipelines/pipeline-in-task.js";
import type { TemplateKind } from "./template-reference.js";

export const TemplateInputSchema = z.strictObject({
  description: z.string().max(500).default(""),
  task: z.record(z.string(), z.json()),
});

/** A task request that names a template; its other fields go over the template's. */
const TemplateReferenceSchema = z.looseObject({
  template: ResourceNameSchema,
  params: z.record(z.string(), z.json()).default({}),
});

/** The parameter names a template's strings use ("{{params.env}}" → "env"). */
export function templateParams(template: unknown): string[] {
  const names = new Set<string>();
  const visit = (value: unknown): void => {
    if (typeof value === "string") for (const match of value.matchAll(PLACEHOLDER)) { const path = match[1] ?? ""; if (path.startsWith("params.")) names.add(path.slice(7).split(".")[0] ?? ""); }
    else if (Array.isArray(value)) value.forEach(visit);
    else if (value !== null && typeof value === "object") Object.values(value).forEach(visit);
  };
  visit(template);
  return [...names].filter(Boolean).sort();
}

export function templateToJson(row: TemplateRow) {
  return { id: row.id, name: row.name, kind: pipelineIn(row.task) === undefined ? "task" : "pipeline", description: row.description, task: row.task, params: templateParams(row.task), createdAt: row.created_at.toISOString(), updatedAt: row.updated_at.toISOString() };
}

export class TemplateService {
  constructor(
    private readonly store: TemplateStore,
    private readonly registry: ExecutorRegistry,
  ) {}

  list(): Promise<TemplateRow[]> {
    return this.store.list();
  }

  get(idOrName: string): Promise<TemplateRow | undefined> {
    return this.store.get(idOrName);
  }

  /** Creates the template `name`, or replaces it. */
  async put(name: string, input: unknown): Promise<{ row: TemplateRow; created: boolean }> {
    const named = parseWith(ResourceNameSchema, name);
    const parsed = parseWith(TemplateInputSchema, input);
    const errors: FieldError[] = [...(named.ok ? [] : named.errors.map((e) => ({ ...e, field: "name" }))), ...(parsed.ok ? [] : parsed.errors)];
    if (parsed.ok) errors.push(...(await this.templateProblems(parsed.value.task)));
    if (errors.length > 0 || !parsed.ok) throw new ValidationError("template", errors);
    return this.store.upsert(uuidv7(), { name, description: parsed.value.description, task: parsed.value.task });
  }

  /** A task template checked as a hook's task is; a pipeline template as a hook's pipeline (steps may name task templates). */
  private async templateProblems(task: Record<string, unknown>): Promise<FieldError[]> {
    const pipeline = pipelineIn(task);
    if (pipeline === undefined) return checkTaskTemplateShape(task, this.registry);
    return [...besidePipeline(task), ...(await pipelineTemplateProblems(pipeline, this.registry, (input) => this.expand(input)))];
  }

  async remove(idOrName: string): Promise<boolean> {
    const existing = await this.store.get(idOrName);
    return existing ? this.store.delete(existing.id) : false;
  }

  /**
   * The request `input` stands for: itself, or the template of `kind` it names, filled and with the
   * request's other fields laid over it (over the pipeline's for a pipeline template: title,
   * idempotencyKey, onFailure).
   */
  async expand(input: unknown, kind: TemplateKind = "task"): Promise<unknown> {
    if (input === null || typeof input !== "object" || !("template" in input)) return input;
    const reference = parseWith(TemplateReferenceSchema, input);
    if (!reference.ok) throw new ValidationError(kind, reference.errors);
    const { template: name, params, ...fields } = reference.value;
    const template = await this.store.get(name);
    if (!template || template.name !== name) throw new ValidationError(kind, [{ field: "template", message: "names no template", value: describeValue(name) }]);
    const pipeline = pipelineIn(template.task);
    if (kind === "task" && pipeline !== undefined) {
      throw new ValidationError(kind, [{ field: "template", message: `names a pipeline template: run it as a pipeline (POST /api/pipelines { "template": "${name}", "params": {...} }, ph-tasks pipeline run --template ${name})`, value: describeValue(name) }]);
    }
    if (kind === "pipeline" && pipeline === undefined) {
      throw new ValidationError(kind, [{ field: "template", message: 'names a task template: a pipeline template\'s task is { "pipeline": { title, steps } }', value: describeValue(name) }]);
    }
    const missing = templateParams(template.task).filter((param) => !(param in params));
    if (missing.length > 0) throw new ValidationError(kind, missing.map((param) => ({ field: `params.${param}`, message: `is used by template '${name}' and missing` })));
    return { ...(fillTemplate(pipeline ?? template.task, { params }) as Record<string, unknown>), ...fields };
  }
}
