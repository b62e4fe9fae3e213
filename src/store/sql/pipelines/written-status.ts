import type { Queryable } from "../../db.js";
import { tagRowsFrom } from "../../migrations/025-task-tags.js";
import { NOT_HELD, WRITE_BACK_CLEARED } from "../write-back-sql.js";
import { PIPELINE_TAG_PREFIX } from "./pipeline-row.js";
import { PIPELINE_STATUS, STEP_COUNTS } from "./pipeline-status-sql.js";

/**
 * Takes the writing of a pipeline's end (`status`) back to its document for `leaseMs`: returns the
 * end's mark (the status and the microsecond its last step ended, so the end after a retry is
 * another one) to the one caller that takes it, undefined to any other — written already, held by
 * another writer, or the pipeline no longer at that end. Migration 034: a writer that stops
 * between taking and writing loses the end when its lease runs out, and the sweep takes it.
 */
export async function takeWrittenStatus(db: Queryable, pipelineId: string, status: string, leaseMs: number): Promise<string | undefined> {
  const { rows } = await db.query<{ writing_end: string }>(
    `UPDATE ph_pipelines p SET writing_end = e.mark, writing_until = now() + make_interval(secs => $3 / 1000.0)
     FROM (SELECT p.id, $2 || '@' || coalesce((SELECT (extract(epoch FROM max(t.finished_at)) * 1000000)::bigint::text
                                               FROM ph_tasks t WHERE t.id = ANY(p.task_ids)), '') AS mark
           FROM ph_pipelines p CROSS JOIN LATERAL (${STEP_COUNTS}) c
           WHERE p.id = $1 AND ${PIPELINE_STATUS} = $2) e
     WHERE p.id = e.id AND p.written_status IS NULL AND (${NOT_HELD("p")} OR p.writing_end IS DISTINCT FROM e.mark)
     RETURNING p.writing_end`,
    [pipelineId, status, leaseMs],
  );
  return rows[0]?.writing_end;
}

/**
 * A CTE for a statement that queues `changed` tasks again (a retry): their pipelines run again, so
 * their next end is written back to the document, the same one included — whether the task was
 * retried by its pipeline, by its id or in bulk, and also when a writer still holds this end.
 */
export function writtenStatusCleared(changed: string): string {
  return `written_cleared AS (
       UPDATE ph_pipelines p SET ${WRITE_BACK_CLEARED}
       FROM (${tagRowsFrom(changed)}) c
       -- The pipeline's own step only: a tag given by hand to another task changes nothing.
       WHERE c.tag LIKE '${PIPELINE_TAG_PREFIX}%' AND p.id = substr(c.tag, ${PIPELINE_TAG_PREFIX.length + 1})
         AND c.id = ANY(p.task_ids) AND (p.written_status IS NOT NULL OR p.writing_end IS NOT NULL)
     )`;
}
