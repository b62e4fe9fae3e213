/**
 * What a schedule is made of, at the HTTP boundary: zod schemas for creating and changing one,
 * and its JSON. The cron expression and the time zone are checked here; the task template is
 * checked by the service against the executors (it needs the registry).
 */
import { z } from "zod";
import type { ScheduleRow } from "../store/sql/schedules/schedule-row.js";
import { cronProblem, isTimeZone } from "./cron.js";
import { lastMade } from "../pipelines/pipeline-in-task.js";

/** Names of schedules and hooks: how people refer to them on the command line and in URLs. */
export const ResourceNameSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,99}$/, "must be 1-100 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter or digit");

const ScheduleFieldsSchema = z.object({
  /** How people refer to it (`ph-tasks schedule rm nightly-build`): unique. */
  name: ResourceNameSchema,
  /** "*\/5 * * * *", "0 3 * * 1-5", "@daily", or 6 fields with seconds first. */
  cron: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .superRefine((cron, ctx) => {
      // Checked in UTC: a time zone changes when an expression fires, not whether it is valid.
      const problem = cronProblem(cron, "UTC");
      if (problem) ctx.addIssue({ code: "custom", message: `not a usable cron expression: ${problem} (e.g. "*/5 * * * *", "0 3 * * 1-5", "@daily", or 6 fields with seconds first)`, input: cron });
    }),
  timezone: z.string().refine(isTimeZone, "must be an IANA time zone such as 'UTC' or 'Europe/Berlin'").default("UTC"),
  /**
   * The task request each firing makes; "{{schedule.occurrence}}" and "{{schedule.name}}" are
   * filled in. `{ "pipeline": {...} }` makes a pipeline instead (src/pipelines/).
   */
  task: z.record(z.string(), z.json()),
  /** A firing while the last task made is still pending or running: "skip" it (default) or "allow" it. */
  overlap: z.enum(["skip", "allow"]).default("skip"),
  enabled: z.boolean().default(true),
});

export const ScheduleCreateSchema = z.strictObject(ScheduleFieldsSchema.shape);
export type ScheduleCreate = z.infer<typeof ScheduleCreateSchema>;

/** A change: the fields given replace the schedule's; the result is checked as a new schedule is. */
export const SchedulePatchSchema = z.strictObject({
  name: z.string(),
  cron: z.string(),
  timezone: z.string(),
  task: z.record(z.string(), z.json()),
  overlap: z.string(),
  enabled: z.boolean(),
}).partial();
export type SchedulePatch = z.infer<typeof SchedulePatchSchema>;

export function scheduleToJson(row: ScheduleRow) {
  return {
    id: row.id,
    name: row.name,
    cron: row.cron,
    timezone: row.timezone,
    task: row.task,
    overlap: row.overlap,
    enabled: row.enabled,
    nextFireAt: row.next_fire_at?.toISOString() ?? null,
    lastFiredAt: row.last_fired_at?.toISOString() ?? null,
    ...lastMade(row.task, row.last_task_id),
    lastError: row.last_error,
    firedCount: row.fired_count,
    skippedCount: row.skipped_count,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
export type ScheduleJson = ReturnType<typeof scheduleToJson>;
