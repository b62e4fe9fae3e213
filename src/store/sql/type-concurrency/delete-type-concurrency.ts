import type { Queryable } from "../../db.js";

/** Lifts the caps of the types given; returns the types lifted. */
export async function deleteTypeConcurrency(db: Queryable, types: readonly string[]): Promise<string[]> {
  const { rows } = await db.query<{ task_type: string }>("DELETE FROM ph_type_concurrency WHERE task_type = ANY($1::text[]) RETURNING task_type", [types]);
  return rows.map((r) => r.task_type);
}
