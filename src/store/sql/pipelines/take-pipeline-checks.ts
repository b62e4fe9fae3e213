import type { Queryable } from "../../db.js";

/** A pipeline to look at again: which task changed, and whether it left an end status (a retry). */
export interface PipelineCheck {
  pipelineId: string;
  taskId: string;
  reopened: boolean;
}

/**
 * Takes (deletes) up to `limit` pipeline checks, oldest first, skipping those another worker is
 * taking (a pipeline may come more than once). Deleted in the transaction that announces them: a
 * worker that dies before committing leaves them for another.
 */
export async function takePipelineChecks(db: Queryable, limit: number): Promise<PipelineCheck[]> {
  const { rows } = await db.query<{ pipeline_id: string; task_id: string; reopened: boolean }>(
    `DELETE FROM ph_pipeline_checks
     WHERE id IN (SELECT id FROM ph_pipeline_checks ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
     RETURNING pipeline_id, task_id, reopened`,
    [limit],
  );
  return rows.map((r) => ({ pipelineId: r.pipeline_id, taskId: r.task_id, reopened: r.reopened }));
}
