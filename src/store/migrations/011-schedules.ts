/**
 * Cron schedules: each row makes a task from its template at every occurrence of its cron
 * expression. Every worker looks for due schedules; a firing is claimed first (firing_by /
 * firing_until, taken with SKIP LOCKED), so one worker fires each occurrence, and the task it makes
 * carries the idempotency key "schedule:<id>:<occurrence>", so a firing retried after a crash
 * cannot make a second task. next_fire_at is computed by the worker (croner, in the schedule's
 * time zone) and is NULL while the schedule is paused or has no occurrence left.
 */
export const name = "schedules";

export const sql = `
CREATE TABLE ph_schedules (
  id text PRIMARY KEY,
  name text NOT NULL UNIQUE,
  cron text NOT NULL,
  timezone text NOT NULL,
  task jsonb NOT NULL,
  overlap text NOT NULL,
  enabled boolean NOT NULL,
  next_fire_at timestamptz,
  last_fired_at timestamptz,
  last_task_id text,
  last_error text,
  fired_count integer NOT NULL DEFAULT 0,
  skipped_count integer NOT NULL DEFAULT 0,
  firing_by text,
  firing_until timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ph_schedules_due ON ph_schedules (next_fire_at) WHERE next_fire_at IS NOT NULL;
`;
