import type { Queryable } from "../db.js";
import { WAITING_RUN_AT } from "../migrations/013-task-dependencies.js";
import { RELEASED_RUN_AT } from "../migrations/020-run-at.js";
import { AWAITING_DECISION } from "../migrations/036-approvals.js";

export interface DependencyLink {
  task_id: string;
  depends_on: string;
}

/**
 * Links new tasks to their dependencies, marks the dependencies (has_dependents: their completion
 * fires the release trigger, migration 013), and releases at once each new task whose dependencies
 * have all completed already. Marking locks the dependency rows and reads their status as of the
 * lock (an approval without a decision stays waiting: migration 036): a dependency completing at the same instant either commits first (seen completed here) or
 * after (its trigger sees the link). Returns the dependency ids that name no task (the caller
 * rolls back) and the tasks released.
 */
export async function registerDependencies(db: Queryable, links: readonly DependencyLink[]): Promise<{ missing: string[]; released: string[] }> {
  const { rows } = await db.query<{ missing: string[]; released: string[] }>(
    `WITH links AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS l(task_id text, depends_on text)
     ), marked AS (
       UPDATE ph_tasks u SET has_dependents = true
       WHERE u.id IN (SELECT depends_on FROM links)
       RETURNING u.id, u.status
     ), linked AS (
       INSERT INTO ph_task_dependencies (task_id, depends_on)
       SELECT l.task_id, l.depends_on FROM links l JOIN marked m ON m.id = l.depends_on
       ON CONFLICT DO NOTHING
     ), released AS (
       UPDATE ph_tasks t SET run_at = ${RELEASED_RUN_AT}
       WHERE t.id IN (SELECT task_id FROM links) AND t.run_at = '${WAITING_RUN_AT}'::timestamptz AND NOT ${AWAITING_DECISION}
         AND NOT EXISTS (SELECT 1 FROM links l LEFT JOIN marked m ON m.id = l.depends_on
                         WHERE l.task_id = t.id AND (m.id IS NULL OR m.status <> 'completed'))
       RETURNING t.id
     )
     SELECT (SELECT coalesce(array_agg(DISTINCT l.depends_on), '{}') FROM links l WHERE l.depends_on NOT IN (SELECT id FROM marked)) AS missing,
            (SELECT coalesce(array_agg(id), '{}') FROM released) AS released`,
    [JSON.stringify(links)],
  );
  return rows[0] ?? { missing: [], released: [] };
}
