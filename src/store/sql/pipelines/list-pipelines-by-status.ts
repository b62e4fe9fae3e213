import type { Queryable } from "../../db.js";
import type { PipelineRow } from "./pipeline-row.js";

/**
 * A pipeline's status from its steps' tasks, in SQL: pipelineStatus() of pipeline-service.ts, the
 * same rules (a removed task counts as completed), for a filter the page can be cut after. A test
 * compares the two on every mix of up to three step statuses.
 */
const PIPELINE_STATUS = `CASE
  WHEN c.pending + c.running = 0 THEN CASE WHEN c.failed > 0 THEN 'failed' WHEN c.cancelled > 0 THEN 'cancelled' ELSE 'completed' END
  WHEN c.running > 0 THEN 'running'
  WHEN c.failed + c.cancelled > 0 THEN 'blocked'
  WHEN c.done > 0 THEN 'running'
  ELSE 'pending' END`;

/**
 * Newest first, only those of `status`, a page at a time. Each pipeline's tasks are read by their
 * ids (at most 50 index lookups) until the page is full: a rare status is looked for through the
 * whole table (the retention cleanup bounds it).
 */
export async function listPipelinesByStatus(db: Queryable, status: string, limit: number, offset: number): Promise<PipelineRow[]> {
  const { rows } = await db.query<PipelineRow>(
    `SELECT p.* FROM ph_pipelines p
     CROSS JOIN LATERAL (
       SELECT count(*) FILTER (WHERE t.status = 'pending') AS pending,
              count(*) FILTER (WHERE t.status = 'running') AS running,
              count(*) FILTER (WHERE t.status = 'completed' OR t.id IS NULL) AS done,
              count(*) FILTER (WHERE t.status = 'failed') AS failed,
              count(*) FILTER (WHERE t.status = 'cancelled') AS cancelled
       FROM unnest(p.task_ids) AS step(id) LEFT JOIN ph_tasks t ON t.id = step.id
     ) c
     WHERE ${PIPELINE_STATUS} = $1
     ORDER BY p.id DESC LIMIT $2 OFFSET $3`,
    [status, limit, offset],
  );
  return rows;
}
