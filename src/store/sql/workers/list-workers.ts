import type { Queryable } from "../../db.js";
import type { WorkerRow } from "./worker-row.js";

/**
 * Every worker on record, the ones heard from most recently first, each with the tasks the store
 * shows it holding (read through the running tasks' lease index: as many rows as run now) and the
 * runs it ended in the last hour (through the finished_at index: as many rows as ended then).
 */
export async function listWorkers(db: Queryable): Promise<WorkerRow[]> {
  const { rows } = await db.query<WorkerRow>(
    `WITH held AS (SELECT locked_by, count(*)::int AS n FROM ph_tasks WHERE status = 'running' GROUP BY locked_by),
          ended AS (SELECT last_worker, count(*) FILTER (WHERE status = 'completed')::int AS completed, count(*) FILTER (WHERE status = 'failed')::int AS failed
                    FROM ph_tasks WHERE finished_at >= now() - interval '1 hour' GROUP BY last_worker)
     SELECT w.*, w.last_seen_at < now() - make_interval(secs => w.lease_ms / 1000.0) AS lost, coalesce(h.n, 0) AS holding,
            coalesce(e.completed, 0) AS completed_last_hour, coalesce(e.failed, 0) AS failed_last_hour
     FROM ph_workers w LEFT JOIN held h ON h.locked_by = w.worker_id LEFT JOIN ended e ON e.last_worker = w.worker_id
     ORDER BY w.last_seen_at DESC, w.worker_id`,
  );
  return rows;
}
