import type { Queryable } from "../../db.js";

/** Removes the costs recorded more than `retentionMs` ago; returns how many. */
export async function deleteOldRunCosts(db: Queryable, retentionMs: number): Promise<number> {
  const { affectedRows } = await db.query("DELETE FROM ph_run_costs WHERE recorded_at < now() - make_interval(secs => $1::float8 / 1000.0)", [retentionMs]);
  return affectedRows;
}
