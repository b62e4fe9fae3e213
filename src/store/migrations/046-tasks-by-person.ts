/**
 * The tasks one person asked for (`ph-tasks list --by alice`, GET /api/tasks?by=alice, the bulk
 * actions' `by`): an index on who asked as the agent proved it (`source.by`), newest first.
 * Partial: the tasks no one named asked for (schedules, hooks, API_TOKEN) are not in it and cost
 * their inserts nothing. Additive: older agents neither read it nor need it.
 */
export const name = "tasks-by-person";

export const statements = [
  "CREATE INDEX IF NOT EXISTS ph_tasks_asked_by ON ph_tasks ((source->>'by'), id) WHERE source->>'by' IS NOT NULL",
];
