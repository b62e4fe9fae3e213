import type { JsonObject } from "../../../tasks/types.js";

/** A row of ph_schedules as the SQL returns it. */
export interface ScheduleRow {
  id: string;
  name: string;
  cron: string;
  timezone: string;
  /** The task request each firing makes (validated when the schedule was saved). */
  task: JsonObject;
  overlap: "skip" | "allow";
  enabled: boolean;
  next_fire_at: Date | null;
  last_fired_at: Date | null;
  last_task_id: string | null;
  last_error: string | null;
  fired_count: number;
  skipped_count: number;
  firing_by: string | null;
  firing_until: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** What saving a schedule writes (the rest is bookkeeping of its firings). */
export type ScheduleFields = Pick<ScheduleRow, "name" | "cron" | "timezone" | "task" | "overlap" | "enabled" | "next_fire_at">;
