import type { Queryable } from "../db.js";
import type { TaskRow } from "../interfaces.js";

export async function selectTasksByIdempotencyKeys(db: Queryable, keys: readonly string[]): Promise<TaskRow[]> {
  const { rows } = await db.query<TaskRow>("SELECT * FROM ph_tasks WHERE idempotency_key = ANY($1::text[])", [keys]);
  return rows;
}
