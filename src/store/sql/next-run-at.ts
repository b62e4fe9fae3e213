import type { Queryable } from "../db.js";

/** When the next delayed (retrying) task becomes claimable, if any. */
export async function nextRunAt(db: Queryable): Promise<Date | undefined> {
  const { rows } = await db.query<{ run_at: Date | null }>("SELECT min(run_at) AS run_at FROM ph_tasks WHERE status = 'pending' AND run_at > now()");
  return rows[0]?.run_at ?? undefined;
}
