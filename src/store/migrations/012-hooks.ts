/**
 * Inbound webhooks: POST /hooks/<name>, signed with the hook's secret (HMAC-SHA256 of the body),
 * makes a task from the hook's template. A delivery id the sender repeats on retries
 * (Idempotency-Key, X-GitHub-Delivery) becomes the task's idempotency key, so a retried delivery —
 * to this worker or another — makes no second task.
 */
export const name = "hooks";

export const sql = `
CREATE TABLE ph_hooks (
  id text PRIMARY KEY,
  name text NOT NULL UNIQUE,
  secret text NOT NULL,
  task jsonb NOT NULL,
  enabled boolean NOT NULL,
  received_count integer NOT NULL DEFAULT 0,
  rejected_count integer NOT NULL DEFAULT 0,
  last_received_at timestamptz,
  last_task_id text,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
)
`;
