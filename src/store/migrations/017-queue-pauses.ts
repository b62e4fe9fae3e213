/**
 * Pausing the queue: a row per paused task type ('*': every type). Workers stop claiming the
 * types paused — their claims leave those types out (claim-pump.ts), so the claim itself is
 * unchanged and pays nothing — while tasks are still accepted and wait, and running ones finish.
 * Rows, not worker state: a pause holds across restarts and for workers started later.
 */
export const name = "queue-pauses";

export const sql = `
CREATE TABLE ph_queue_pauses (
  task_type text PRIMARY KEY,
  reason text NOT NULL DEFAULT '',
  paused_at timestamptz NOT NULL DEFAULT now()
)`;
