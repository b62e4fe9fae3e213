import type { Queryable } from "../db.js";
import type { TaskStatus } from "../../tasks/types.js";

/** Queue depth and the rest: how many tasks are in each status (per type). */
export async function countTasksByStatus(db: Queryable): Promise<{ status: TaskStatus; type: string; count: number }[]> {
  const { rows } = await db.query<{ status: TaskStatus; type: string; count: string | number }>(
    "SELECT status, type, count(*) AS count FROM ph_tasks GROUP BY status, type",
  );
  return rows.map((r) => ({ status: r.status, type: r.type, count: Number(r.count) }));
}
