import type { Queryable } from "../../db.js";
import { NOT_HELD } from "../write-back-sql.js";
import { PIPELINE_STATUS, STEP_COUNTS } from "./pipeline-status-sql.js";

/**
 * Trigger rules' pipelines that have ended with their end not written back and not held by a writer
 * (the worker that ended the last step stopped before it took it, or between taking and writing it). Through a partial index (migration 032): only
 * rule pipelines not yet written — those still running, and these.
 */
export async function selectUnwrittenRuleEnds(db: Queryable, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT p.id FROM ph_pipelines p CROSS JOIN LATERAL (${STEP_COUNTS}) c
     WHERE p.written_status IS NULL AND ${NOT_HELD("p")} AND p.origin LIKE 'rule:%' AND ${PIPELINE_STATUS} IN ('completed', 'failed', 'cancelled')
     ORDER BY p.id LIMIT $1`,
    [limit],
  );
  return rows.map((r) => r.id);
}
