/**
 * Pipelines (src/pipelines/): several tasks asked for at once, named steps that wait for each
 * other — build → test → deploy — stored with their tasks in one transaction.
 *
 * A pipeline's row keeps what its tasks do not: its title, who asked, its idempotency key and its
 * steps (name, task id, the steps it waits for). Its state is its tasks' (read through `task_ids`,
 * nothing to keep in step); each task also carries the tag `pipeline:<id>`, so the task list, bulk
 * retry and cancel find a pipeline's tasks by tag. The links between steps are ordinary task
 * dependencies (ph_task_dependencies): a pipeline adds nothing to the claim.
 *
 * Retention: once every task of a pipeline has been removed (TASK_RESULT_TTL), the cleanup removes
 * the pipeline; `created_at`'s index keeps that look to the pipelines old enough to have lost them.
 * Additive: an older agent never reads this table (its tasks run as any others).
 */
export const name = "pipelines";

export const statements = [
  `CREATE TABLE ph_pipelines (
     id              text PRIMARY KEY,
     title           text NOT NULL,
     origin          text NOT NULL,
     idempotency_key text UNIQUE,
     steps           jsonb NOT NULL,
     task_ids        text[] NOT NULL,
     created_at      timestamptz NOT NULL DEFAULT now()
   )`,
  "CREATE INDEX ph_pipelines_created ON ph_pipelines (created_at)",
];
