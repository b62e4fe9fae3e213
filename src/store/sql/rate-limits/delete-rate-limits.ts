import type { Queryable } from "../../db.js";

/** Lifts the rate limits of the types given (every one when none is given); returns the types lifted. */
export async function deleteRateLimits(db: Queryable, types?: readonly string[]): Promise<string[]> {
  const { rows } = await db.query<{ task_type: string }>(
    "DELETE FROM ph_rate_limits WHERE $1::text[] IS NULL OR task_type = ANY($1::text[]) RETURNING task_type",
    [types ?? null],
  );
  return rows.map((r) => r.task_type);
}
