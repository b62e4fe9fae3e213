import type { Queryable } from "../../db.js";
import type { TaskRow } from "../../interfaces.js";

/** The tasks of these ids that are still stored (retention may have removed some). */
export async function selectTasksByIds(db: Queryable, ids: readonly string[]): Promise<TaskRow[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<TaskRow>("SELECT * FROM ph_tasks WHERE id = ANY($1::text[])", [ids]);
  return rows;
}
