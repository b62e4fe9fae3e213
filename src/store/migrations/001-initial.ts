/**
 * The task store's first schema. Open to what comes next without a rewrite: `params` holds each
 * type's own fields, `source` and `meta` are JSON, and workflows (dependencies, schedules) get
 * their own tables referencing ph_tasks(id).
 */
export const name = "initial";

export const sql = `
CREATE TABLE ph_tasks (
  id               text PRIMARY KEY,
  type             text NOT NULL,
  title            text NOT NULL,
  instructions     text NOT NULL DEFAULT '',
  params           jsonb NOT NULL DEFAULT '{}'::jsonb,
  status           text NOT NULL CHECK (status IN ('pending','running','completed','failed','cancelled')),
  priority         integer NOT NULL CHECK (priority BETWEEN 0 AND 100),
  -- Rank in virtual time: created_at minus priority × aging interval. Claims take the smallest,
  -- so waiting raises a task's rank exactly like priority does and nothing starves (see README).
  rank_at          timestamptz NOT NULL,
  attempts         integer NOT NULL DEFAULT 0,
  max_attempts     integer NOT NULL,
  timeout_ms       integer NOT NULL,
  idempotency_key  text UNIQUE,
  drive_id         text,
  document_id      text,
  source           jsonb,
  meta             jsonb NOT NULL DEFAULT '{}'::jsonb,
  run_at           timestamptz NOT NULL DEFAULT now(),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  started_at       timestamptz,
  finished_at      timestamptz,
  locked_by        text,
  lease_expires_at timestamptz,
  cancel_requested boolean NOT NULL DEFAULT false,
  result           jsonb,
  error            jsonb
);
CREATE INDEX ph_tasks_claimable ON ph_tasks (rank_at, id) WHERE status = 'pending';
CREATE INDEX ph_tasks_running_document ON ph_tasks (document_id) WHERE status = 'running';
CREATE INDEX ph_tasks_running_drive ON ph_tasks (drive_id) WHERE status = 'running';
CREATE INDEX ph_tasks_lease ON ph_tasks (lease_expires_at) WHERE status = 'running';
CREATE INDEX ph_tasks_finished ON ph_tasks (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX ph_tasks_created ON ph_tasks (created_at DESC, id);
CREATE INDEX ph_tasks_document ON ph_tasks (document_id, created_at DESC);

-- What a live view replays: status changes, output chunks, progress. Bounded per task.
CREATE TABLE ph_task_events (
  seq        bigserial PRIMARY KEY,
  task_id    text NOT NULL REFERENCES ph_tasks(id) ON DELETE CASCADE,
  kind       text NOT NULL CHECK (kind IN ('status','output','progress')),
  stream     text,
  data       text NOT NULL,
  bytes      integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ph_task_events_task ON ph_task_events (task_id, seq);
`;
