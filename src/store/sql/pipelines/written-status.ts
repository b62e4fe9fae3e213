import type { Queryable } from "../../db.js";
import { tagRowsFrom } from "../../migrations/025-task-tags.js";
import { PIPELINE_TAG_PREFIX } from "./pipeline-row.js";

/**
 * Takes the writing of a pipeline's end (`status`) back to its document: true for the one caller
 * that changes written_status to it, false for any other (the row lock makes two workers that saw
 * the same end at once take turns, and the second finds it written).
 */
export async function takeWrittenStatus(db: Queryable, pipelineId: string, status: string): Promise<boolean> {
  const { affectedRows } = await db.query("UPDATE ph_pipelines SET written_status = $2 WHERE id = $1 AND written_status IS DISTINCT FROM $2", [pipelineId, status]);
  return affectedRows === 1;
}

/**
 * A CTE for a statement that queues `changed` tasks again (a retry): their pipelines run again, so
 * their next end is written back to the document, the same one included — whether the task was
 * retried by its pipeline, by its id or in bulk.
 */
export function writtenStatusCleared(changed: string): string {
  return `written_cleared AS (
       UPDATE ph_pipelines p SET written_status = NULL
       FROM (${tagRowsFrom(changed)}) c
       -- The pipeline's own step only: a tag given by hand to another task changes nothing.
       WHERE c.tag LIKE '${PIPELINE_TAG_PREFIX}%' AND p.id = substr(c.tag, ${PIPELINE_TAG_PREFIX.length + 1})
         AND c.id = ANY(p.task_ids) AND p.written_status IS NOT NULL
     )`;
}
