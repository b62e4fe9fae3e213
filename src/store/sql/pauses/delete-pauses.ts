import type { Queryable } from "../../db.js";

/** Resumes the types given, or every paused type when none is given; returns the types resumed. */
export async function deletePauses(db: Queryable, types?: readonly string[]): Promise<string[]> {
  const { rows } = await db.query<{ task_type: string }>(
    "DELETE FROM ph_queue_pauses WHERE $1::text[] IS NULL OR task_type = ANY($1::text[]) RETURNING task_type",
    [types ?? null],
  );
  return rows.map((r) => r.task_type);
}
