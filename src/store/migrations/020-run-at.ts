/**
 * A task request's runAt ("not before"): a task without dependencies goes in with it as its run_at
 * (insert-tasks.ts). One with dependencies goes in waiting as before; when its last dependency
 * completes it is released to its runAt if that is still ahead, else to now — here for the release
 * trigger of migration 013, in register-dependencies.ts for dependencies completed already. The
 * runAt is read from the task's params, where the request's fields beyond the columns are kept.
 */
import { WAITING_RUN_AT } from "./013-task-dependencies.js";

export const name = "run-at";

/** The run_at of a dependent task `t` released now. */
export const RELEASED_RUN_AT = "greatest(now(), (t.params->>'runAt')::timestamptz)";

/**
 * The release trigger's function: dependents of the task just completed, waiting and with every
 * dependency completed, are released to their runAt. `alsoWhere` narrows which (migration 036).
 */
export const releaseDependentsFunction = (alsoWhere = "") => `
CREATE OR REPLACE FUNCTION ph_release_dependents() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM 1 FROM ph_tasks t
  WHERE t.id IN (SELECT d.task_id FROM ph_task_dependencies d WHERE d.depends_on = NEW.id) AND t.status = 'pending'
  ORDER BY t.id FOR UPDATE;
  UPDATE ph_tasks t SET run_at = ${RELEASED_RUN_AT}, updated_at = now()
  WHERE t.id IN (SELECT d.task_id FROM ph_task_dependencies d WHERE d.depends_on = NEW.id)
    AND t.status = 'pending' AND t.run_at = '${WAITING_RUN_AT}'::timestamptz${alsoWhere}
    AND NOT EXISTS (SELECT 1 FROM ph_task_dependencies d2 JOIN ph_tasks u ON u.id = d2.depends_on
                    WHERE d2.task_id = t.id AND u.status <> 'completed');
  RETURN NULL;
END
$fn$`;

export const statements = [releaseDependentsFunction()];
