/**
 * Creating, changing and removing inbound webhooks, for the HTTP API (and through it the CLI).
 * A hook's template is checked with every placeholder filled with a sample text; what a delivery
 * fills in is checked again at each delivery.
 */
import { v7 as uuidv7 } from "uuid";
import type { HookStore } from "../store/hook-store.js";
import { RateLimitStore } from "../store/rate-limit-store.js";
import type { RateLimitRow } from "../store/sql/rate-limits/rate-limit-row.js";
import type { HookFields, HookRow, NewHookFields } from "../store/sql/hooks/hook-row.js";
import type { ExecutorRegistry } from "../tasks/executors/registry.js";
import { checkTaskTemplateShape, refusedFields } from "../tasks/task-template.js";
import { expandForCheck, namesTemplate, type ExpandTemplate } from "../templates/template-reference.js";
import type { JsonObject } from "../tasks/types.js";
import { isUniqueViolation, NameTakenError, parseWith, ValidationError, type FieldError } from "../validation.js";
import { fillHookTask } from "./hook-receiver.js";
import { HookCreateSchema, HookPatchSchema, HookPreviewSchema } from "./hook-schema.js";
import { parseTaskRequest } from "../tasks/task-request.js";
import { requestProblems } from "../tasks/admit-tasks.js";
import { besidePipeline, pipelineIn, pipelineProblems, pipelineTemplateProblems } from "../pipelines/pipeline-in-task.js";
import { graceProblem, rotateSecret } from "./secret-rotation.js";
import { newSecret } from "./signing.js";

export class HookService {
  /** The hooks' rate limits: rows of ph_rate_limits keyed by hook id. */
  private readonly rateLimits: RateLimitStore;

  constructor(
    private readonly store: HookStore,
    private readonly registry: ExecutorRegistry,
    /** Expands a task that names a saved template; absent: hooks cannot name one. */
    private readonly expandTemplate?: ExpandTemplate,
  ) {
    this.rateLimits = new RateLimitStore(store.db, "hook");
  }

  list(): Promise<HookRow[]> {
    return this.store.list();
  }

  /** The rate limits of these hooks (all when none are named), by hook id. */
  async rateLimitsOf(ids?: readonly string[]): Promise<Map<string, RateLimitRow>> {
    return new Map((await this.rateLimits.list(ids)).map((row) => [row.key, row]));
  }

  private async setRateLimit(id: string, limit: { max: number; per: number } | null): Promise<void> {
    if (limit) await this.rateLimits.set(id, limit.max, limit.per, "");
    else await this.rateLimits.remove([id]);
  }

  get(idOrName: string): Promise<HookRow | undefined> {
    return this.store.get(idOrName);
  }

  async create(input: unknown): Promise<HookRow> {
    const parsed = parseWith(HookCreateSchema, input);
    if (!parsed.ok) throw new ValidationError("hook", parsed.errors);
    const { rateLimit, ...values } = parsed.value;
    const fields: NewHookFields = { ...values, secret: values.secret ?? newSecret(), task: values.task };
    await this.checkTask(fields.task);
    const row = await this.store.insert(uuidv7(), fields);
    if (!row) throw new NameTakenError("hook", fields.name);
    if (rateLimit) await this.setRateLimit(row.id, rateLimit);
    return row;
  }

  /** Undefined when there is no such hook. */
  async update(idOrName: string, patch: unknown): Promise<HookRow | undefined> {
    const existing = await this.store.get(idOrName);
    if (!existing) return undefined;
    const change = parseWith(HookPatchSchema, patch);
    if (!change.ok) throw new ValidationError("hook", change.errors);
    const grace = graceProblem(change.value);
    if (grace) throw new ValidationError("hook", [grace]);
    const { rotateSecret: rotate, graceMs, rateLimit, ...rest } = change.value;
    const fields: HookFields = { name: existing.name, task: existing.task, enabled: existing.enabled, signing: existing.signing, ...rest, ...(rest.task ? { task: rest.task } : {}), ...rotateSecret(existing, rotate, graceMs) };
    await this.checkTask(fields.task);
    try {
      const row = await this.store.update(existing.id, fields);
      if (row && rateLimit !== undefined) await this.setRateLimit(row.id, rateLimit);
      return row;
    } catch (error) {
      if (isUniqueViolation(error)) throw new NameTakenError("hook", fields.name);
      throw error;
    }
  }

  /**
   * The task a delivery would make, without making it: the template filled from `input` (HookPreviewSchema),
   * a named template expanded, and checked as POST /api/tasks checks a request (fields, then the
   * policy). Undefined when there is no such hook. No signature is needed: the API token is.
   */
  async preview(idOrName: string, input: unknown): Promise<{ task: unknown; errors: FieldError[] } | undefined> {
    const hook = await this.store.get(idOrName);
    if (!hook) return undefined;
    const parsed = parseWith(HookPreviewSchema, input);
    if (!parsed.ok) throw new ValidationError("preview", parsed.errors);
    const filled = fillHookTask(hook, parsed.value);
    // A hook that makes pipelines: the pipeline as the delivery would send it, checked as a whole.
    if (pipelineIn(filled) !== undefined) return { task: filled, errors: await pipelineProblems(pipelineIn(filled), this.registry, this.expandTemplate) };
    const expanded = namesTemplate(filled) ? await expandForCheck(filled, this.expandTemplate) : { request: filled };
    if ("errors" in expanded) return { task: filled, errors: expanded.errors };
    const request = parseTaskRequest(expanded.request, this.registry);
    if (!request.ok) return { task: expanded.request, errors: request.errors };
    return { task: request.value, errors: await requestProblems(this.registry, request.value) };
  }

  async remove(idOrName: string): Promise<boolean> {
    const existing = await this.store.get(idOrName);
    return existing ? this.store.delete(existing.id) : false;
  }

  /**
   * A task of its own is checked with every placeholder filled with a sample text. One that names
   * a template is checked for the template and its parameters only: the values a delivery brings
   * are unknown, and the template's own task was checked when it was saved.
   */
  private async checkTask(task: JsonObject): Promise<void> {
    let errors: FieldError[];
    if (pipelineIn(task) !== undefined) errors = [...besidePipeline(task), ...(await pipelineTemplateProblems(pipelineIn(task), this.registry, this.expandTemplate))];
    else if (namesTemplate(task)) {
      const refused = refusedFields(task);
      const expanded = refused.length > 0 ? { errors: refused } : await expandForCheck(task, this.expandTemplate);
      errors = "errors" in expanded ? expanded.errors : [];
    } else errors = await checkTaskTemplateShape(task, this.registry);
    if (errors.length > 0) throw new ValidationError("hook", errors);
  }
}
