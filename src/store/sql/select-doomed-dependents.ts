import type { Queryable } from "../db.js";
import { WAITING_RUN_AT } from "../migrations/013-task-dependencies.js";

/** A waiting task to cancel, and the dependency that dooms it. */
export interface DoomedDependent {
  id: string;
  dependency: string;
  /** The dependency's status: failed or cancelled; null when it is gone (removed by retention). */
  dependency_status: string | null;
}

const DOOMED = `
  SELECT DISTINCT ON (t.id) t.id, d.depends_on AS dependency, u.status AS dependency_status
  FROM ph_task_dependencies d
    JOIN ph_tasks t ON t.id = d.task_id
    LEFT JOIN ph_tasks u ON u.id = d.depends_on
  WHERE t.status = 'pending' AND t.run_at = '${WAITING_RUN_AT}'::timestamptz
    AND t.params->>'onDependencyFailure' = 'cancel'
    AND (u.id IS NULL OR u.status IN ('failed', 'cancelled'))`;

/**
 * Waiting tasks with onDependencyFailure "cancel" that a dependency dooms: it failed for good, was
 * cancelled, or is gone. `of`: only those depending on these tasks (just ended: the index on
 * depends_on finds them); without it, every one (the sweep after a crash), at most `limit`.
 */
export async function selectDoomedDependents(db: Queryable, of: readonly string[] | undefined, limit: number): Promise<DoomedDependent[]> {
  const { rows } = of
    ? await db.query<DoomedDependent>(`${DOOMED} AND d.depends_on = ANY($1::text[]) ORDER BY t.id, d.depends_on LIMIT $2`, [of, limit])
    : await db.query<DoomedDependent>(`${DOOMED} ORDER BY t.id, d.depends_on LIMIT $1`, [limit]);
  return rows;
}
