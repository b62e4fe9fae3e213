/**
 * Failed and cancelled tasks, newest first, each through an index of their own.
 *
 * Why: the list filtered to failed tasks (the dashboard's status filter, refreshed every 2 s while
 * applied; `ph-tasks list --status failed`; `ph-tasks retry --all`, whose default is the failed
 * ones) read the retained tasks newest first until it had its page and its count — every one of
 * them when failures are rare. These partial indexes hold an entry per failed or cancelled task
 * only: a claim and a completed run (the common path) write nothing to them.
 */
export const name = "ended-status-indexes";

export const statements = [
  "CREATE INDEX IF NOT EXISTS ph_tasks_failed ON ph_tasks (id) WHERE status = 'failed'",
  "CREATE INDEX IF NOT EXISTS ph_tasks_cancelled ON ph_tasks (id) WHERE status = 'cancelled'",
];
