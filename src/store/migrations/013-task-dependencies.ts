/**
 * Task dependencies. A task with dependsOn is inserted waiting (run_at at WAITING_RUN_AT, far in
 * the future, so no claim takes it and the claim function stays as it is) and linked to its
 * dependencies in ph_task_dependencies. When a dependency completes, a trigger releases the
 * dependents whose dependencies have all completed (run_at = now()), in the finish's own
 * transaction: the finishing worker's claim, later in the same round trip, can take them at once,
 * and no completion is ever missed (exactly once, whoever finishes it).
 *
 * Only rows with has_dependents fire the trigger, so an ordinary finish pays for one boolean test.
 * The trigger locks the waiting dependents before it looks at their dependencies: two
 * dependencies of one task completing at the same instant in two transactions would otherwise
 * each see the other still running, and neither would release it.
 */
export const name = "task-dependencies";

/** run_at of a task waiting for its dependencies. */
export const WAITING_RUN_AT = "3000-01-01 00:00:00+00";

const releaseDependents = `
CREATE FUNCTION ph_release_dependents() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM 1 FROM ph_tasks t
  WHERE t.id IN (SELECT d.task_id FROM ph_task_dependencies d WHERE d.depends_on = NEW.id) AND t.status = 'pending'
  ORDER BY t.id FOR UPDATE;
  UPDATE ph_tasks t SET run_at = now(), updated_at = now()
  WHERE t.id IN (SELECT d.task_id FROM ph_task_dependencies d WHERE d.depends_on = NEW.id)
    AND t.status = 'pending' AND t.run_at = '${WAITING_RUN_AT}'::timestamptz
    AND NOT EXISTS (SELECT 1 FROM ph_task_dependencies d2 JOIN ph_tasks u ON u.id = d2.depends_on
                    WHERE d2.task_id = t.id AND u.status <> 'completed');
  RETURN NULL;
END
$fn$`;

export const statements = [
  "ALTER TABLE ph_tasks ADD COLUMN has_dependents boolean NOT NULL DEFAULT false",
  `CREATE TABLE ph_task_dependencies (
     task_id text NOT NULL REFERENCES ph_tasks (id) ON DELETE CASCADE,
     depends_on text NOT NULL,
     PRIMARY KEY (task_id, depends_on)
   )`,
  "CREATE INDEX ph_task_dependencies_on ON ph_task_dependencies (depends_on)",
  releaseDependents,
  `CREATE TRIGGER ph_tasks_release_dependents AFTER UPDATE OF status ON ph_tasks
   FOR EACH ROW WHEN (NEW.has_dependents AND NEW.status = 'completed' AND OLD.status IS DISTINCT FROM 'completed')
   EXECUTE FUNCTION ph_release_dependents()`,
];
