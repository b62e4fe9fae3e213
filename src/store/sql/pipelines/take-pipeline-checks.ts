import type { Queryable } from "../../db.js";

/**
 * Takes (deletes) up to `limit` pipeline checks, oldest first, skipping those another worker is
 * taking; returns the pipelines' ids (one per check: a pipeline may come more than once). Deleted in
 * the transaction that announces them: a worker that dies before committing leaves them for another.
 */
export async function takePipelineChecks(db: Queryable, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ pipeline_id: string }>(
    `DELETE FROM ph_pipeline_checks
     WHERE id IN (SELECT id FROM ph_pipeline_checks ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
     RETURNING pipeline_id`,
    [limit],
  );
  return rows.map((r) => r.pipeline_id);
}
