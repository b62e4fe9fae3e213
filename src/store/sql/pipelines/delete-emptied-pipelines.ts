import type { Queryable } from "../../db.js";

/**
 * Removes pipelines every task of which the retention cleanup has removed. Only those older than
 * the shortest retention can have lost their tasks: the created_at index keeps the look to them.
 */
export async function deleteEmptiedPipelines(db: Queryable, olderThanMs: number): Promise<number> {
  const { rows } = await db.query<{ removed: number }>(
    `WITH gone AS (
       DELETE FROM ph_pipelines p WHERE p.created_at < now() - make_interval(secs => $1::float8 / 1000.0)
         AND NOT EXISTS (SELECT 1 FROM ph_tasks t WHERE t.id = ANY(p.task_ids))
       RETURNING 1
     ) SELECT count(*)::int AS removed FROM gone`,
    [olderThanMs],
  );
  return rows[0]?.removed ?? 0;
}
