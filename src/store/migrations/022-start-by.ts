/**
 * A task request's startBy: a pending task not started by then is cancelled as expired. The sweep
 * that finds them looks at pending tasks that have one, through this partial index — tasks without
 * a startBy are not in it, so they pay nothing. startBy is kept in UTC ("…Z"), so its text sorts
 * as its time and the index can answer "startBy < now".
 */
export const name = "start-by";

export const statements = ["CREATE INDEX ph_tasks_start_by ON ph_tasks ((params->>'startBy')) WHERE status = 'pending' AND params ? 'startBy'"];
