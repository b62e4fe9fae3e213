import type { Queryable } from "../db.js";
import type { TaskRow } from "../interfaces.js";

export async function selectTask(db: Queryable, id: string): Promise<TaskRow | undefined> {
  const { rows } = await db.query<TaskRow>("SELECT * FROM ph_tasks WHERE id = $1", [id]);
  return rows[0];
}
