/**
 * Creating, changing and removing cron schedules, for the HTTP API (and through it the CLI):
 * every field checked, the task template against the executors, every error at once.
 */
import { v7 as uuidv7 } from "uuid";
import type { ScheduleStore } from "../store/schedule-store.js";
import type { ScheduleFields, ScheduleRow } from "../store/sql/schedules/schedule-row.js";
import type { ExecutorRegistry } from "../tasks/executors/registry.js";
import { fillTemplate } from "../rules/template.js";
import { checkTaskRequest, refusedFields } from "../tasks/task-template.js";
import { expandForCheck, namesTemplate, type ExpandTemplate } from "../templates/template-reference.js";
import { isUniqueViolation, NameTakenError, parseWith, ValidationError } from "../validation.js";
import { nextOccurrence } from "./cron.js";
import { besidePipeline, pipelineIn, pipelineProblems } from "../pipelines/pipeline-in-task.js";
import { ScheduleCreateSchema, SchedulePatchSchema, type ScheduleCreate } from "./schedule-schema.js";


/** What a firing's task template sees: "{{schedule.occurrence}}" etc. */
export function firingContext(schedule: { id: string; name: string; cron: string }, occurrence: Date) {
  return { schedule: { id: schedule.id, name: schedule.name, cron: schedule.cron, occurrence: occurrence.toISOString() } };
}

/** The idempotency key of one occurrence's task: a firing retried after a crash finds it. */
export function occurrenceKey(scheduleId: string, occurrence: Date): string {
  return `schedule:${scheduleId}:${occurrence.toISOString()}`;
}

export class ScheduleService {
  constructor(
    private readonly store: ScheduleStore,
    private readonly registry: ExecutorRegistry,
    /** Told after every change (the local scheduler re-arms its timer). */
    private readonly onChange: () => void = () => undefined,
    /** Expands a task that names a saved template; absent: schedules cannot name one. */
    private readonly expandTemplate?: ExpandTemplate,
  ) {}

  list(): Promise<ScheduleRow[]> {
    return this.store.list();
  }

  get(idOrName: string): Promise<ScheduleRow | undefined> {
    return this.store.get(idOrName);
  }

  async create(input: unknown): Promise<ScheduleRow> {
    const id = uuidv7();
    const fields = await this.check(input, id);
    const row = await this.store.insert(id, fields);
    if (!row) throw new NameTakenError("schedule", fields.name);
    this.onChange();
    return row;
  }

  /** Undefined when there is no such schedule. */
  async update(idOrName: string, patch: unknown): Promise<ScheduleRow | undefined> {
    const existing = await this.store.get(idOrName);
    if (!existing) return undefined;
    const change = parseWith(SchedulePatchSchema, patch);
    if (!change.ok) throw new ValidationError("schedule", change.errors);
    const merged = { name: existing.name, cron: existing.cron, timezone: existing.timezone, task: existing.task, overlap: existing.overlap, enabled: existing.enabled, ...change.value };
    const fields = await this.check(merged, existing.id);
    // An unchanged timing keeps its next occurrence (resuming or re-timing starts from now).
    if (existing.enabled && fields.enabled && existing.cron === fields.cron && existing.timezone === fields.timezone) fields.next_fire_at = existing.next_fire_at;
    let row: ScheduleRow | undefined;
    try {
      row = await this.store.update(existing.id, fields);
    } catch (error) {
      if (isUniqueViolation(error)) throw new NameTakenError("schedule", fields.name);
      throw error;
    }
    this.onChange();
    return row;
  }

  async remove(idOrName: string): Promise<boolean> {
    const existing = await this.store.get(idOrName);
    return existing ? this.store.delete(existing.id) : false;
  }

  /** The fields to store, or a ValidationError naming every bad field. */
  private async check(input: unknown, id: string): Promise<ScheduleFields> {
    const parsed = parseWith(ScheduleCreateSchema, input);
    if (!parsed.ok) throw new ValidationError("schedule", parsed.errors);
    const schedule: ScheduleCreate = parsed.value;
    const next = nextOccurrence(schedule.cron, schedule.timezone, new Date());
    if (!next) throw new ValidationError("schedule", [{ field: "cron", message: `has no future occurrence in ${schedule.timezone}`, value: JSON.stringify(schedule.cron) }]);
    // The template filled for the next occurrence (and expanded, when it names a saved one) must be
    // a valid task request.
    const refused = refusedFields(schedule.task);
    if (refused.length > 0) throw new ValidationError("schedule", refused);
    const context = firingContext({ id, name: schedule.name, cron: schedule.cron }, next);
    if (pipelineIn(schedule.task) !== undefined) {
      // Each firing makes a pipeline: checked as POST /api/pipelines would check the next one's.
      const errors = [...besidePipeline(schedule.task), ...(await pipelineProblems(fillTemplate(pipelineIn(schedule.task), context), this.registry, this.expandTemplate))];
      if (errors.length > 0) throw new ValidationError("schedule", errors);
      return { ...schedule, next_fire_at: schedule.enabled ? next : null };
    }
    let request = fillTemplate(schedule.task, context);
    if (namesTemplate(schedule.task)) {
      const expanded = await expandForCheck(request, this.expandTemplate);
      if ("errors" in expanded) throw new ValidationError("schedule", expanded.errors);
      request = expanded.request;
    }
    const errors = await checkTaskRequest(request, this.registry);
    if (errors.length > 0) throw new ValidationError("schedule", errors);
    return { ...schedule, next_fire_at: schedule.enabled ? next : null };
  }
}
