import type { Queryable } from "../db.js";

/**
 * Queue depth and running tasks per type (all workers). Each half reads only its status's rows,
 * through that status's partial index, so the cost follows the queue, not the retained history
 * (a count over every status read all of it on each dashboard refresh and metrics scrape).
 */
export async function countActiveTasks(db: Queryable): Promise<{ status: "pending" | "running"; type: string; count: number }[]> {
  const { rows } = await db.query<{ status: "pending" | "running"; type: string; count: string | number }>(
    `SELECT 'pending' AS status, type, count(*) AS count FROM ph_tasks WHERE status = 'pending' GROUP BY type
     UNION ALL
     SELECT 'running' AS status, type, count(*) AS count FROM ph_tasks WHERE status = 'running' GROUP BY type`,
  );
  return rows.map((r) => ({ status: r.status, type: r.type, count: Number(r.count) }));
}
