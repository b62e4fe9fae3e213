import type { Queryable } from "../../db.js";

/** Lost workers not heard from for `afterMs` are forgotten; returns their ids. */
export async function forgetLostWorkers(db: Queryable, afterMs: number): Promise<string[]> {
  const { rows } = await db.query<{ worker_id: string }>(
    "DELETE FROM ph_workers WHERE last_seen_at < now() - make_interval(secs => $1 / 1000.0) RETURNING worker_id",
    [afterMs],
  );
  return rows.map((r) => r.worker_id);
}
