import type { Queryable } from "../db.js";

/** Which of `ids` name a task still stored (not yet removed by retention). */
export async function selectExistingTaskIds(db: Queryable, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<{ id: string }>("SELECT id FROM ph_tasks WHERE id = ANY($1::text[])", [ids]);
  return rows.map((r) => r.id);
}
