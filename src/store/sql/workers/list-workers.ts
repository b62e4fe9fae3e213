import type { Queryable } from "../../db.js";
import type { WorkerRow } from "./worker-row.js";

/**
 * Every worker on record, the ones heard from most recently first, each with the tasks the store
 * shows it holding (read through the running tasks' lease index: as many rows as run now).
 */
export async function listWorkers(db: Queryable): Promise<WorkerRow[]> {
  const { rows } = await db.query<WorkerRow>(
    `WITH held AS (SELECT locked_by, count(*)::int AS n FROM ph_tasks WHERE status = 'running' GROUP BY locked_by)
     SELECT w.*, w.last_seen_at < now() - make_interval(secs => w.lease_ms / 1000.0) AS lost, coalesce(h.n, 0) AS holding
     FROM ph_workers w LEFT JOIN held h ON h.locked_by = w.worker_id
     ORDER BY w.last_seen_at DESC, w.worker_id`,
  );
  return rows;
}
