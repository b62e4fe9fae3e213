import type { Queryable } from "../../db.js";
import type { PipelineRow } from "./pipeline-row.js";
import { PIPELINE_STATUS, STEP_COUNTS } from "./pipeline-status-sql.js";

/**
 * Newest first, only those of `status`, a page at a time. Each pipeline's tasks are read by their
 * ids (at most 50 index lookups) until the page is full: a rare status is looked for through the
 * whole table (the retention cleanup bounds it).
 */
export async function listPipelinesByStatus(db: Queryable, status: string, limit: number, offset: number): Promise<PipelineRow[]> {
  const { rows } = await db.query<PipelineRow>(
    `SELECT p.* FROM ph_pipelines p CROSS JOIN LATERAL (${STEP_COUNTS}) c
     WHERE ${PIPELINE_STATUS} = $1
     ORDER BY p.id DESC LIMIT $2 OFFSET $3`,
    [status, limit, offset],
  );
  return rows;
}
