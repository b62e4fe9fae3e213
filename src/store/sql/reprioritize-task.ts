import type { Queryable } from "../db.js";
import type { TaskRow } from "../interfaces.js";

/**
 * Gives a waiting task a new priority. Its rank keeps the time it has waited: rank_at moves by the
 * change × agingMs (insert-tasks.ts: rank_at = created_at − priority × TASK_AGING_MS). Undefined
 * when there is no such task or it no longer waits.
 */
export async function reprioritizeTask(db: Queryable, id: string, priority: number, agingMs: number): Promise<TaskRow | undefined> {
  const { rows } = await db.query<TaskRow>(
    `UPDATE ph_tasks SET priority = $2, rank_at = rank_at + make_interval(secs => (priority - $2) * $3::float8 / 1000.0), updated_at = now()
     WHERE id = $1 AND status = 'pending'
     RETURNING *`,
    [id, priority, agingMs],
  );
  return rows[0];
}
