import type { Queryable } from "../../db.js";
import type { PipelineRow } from "./pipeline-row.js";
import { PIPELINE_STATUS, STEP_COUNTS } from "./pipeline-status-sql.js";

/**
 * The tasks a pipeline of each status has at least one of (`t` in ph_tasks). Pending, running and
 * blocked pipelines have a step pending or running (ph_tasks_live_tagged, migration 035: only live
 * tasks with tags), as awaiting_approval ones (a pending approval step); a failed one a failed step, a cancelled one a cancelled step (ph_tasks_failed,
 * ph_tasks_cancelled). Completed ones have no such mark: most pipelines are, so they are read
 * newest first until the page is full.
 */
/** Task `t`'s tags, as an array whatever params hold (the API only stores arrays). */
const TAGS_OF_T = "CASE WHEN jsonb_typeof(t.params->'tags') = 'array' THEN t.params->'tags' ELSE '[]'::jsonb END";

const LIVE_TAGGED = "t.status IN ('pending', 'running') AND t.params ? 'tags'";
const STEPS_OF: Record<string, string | undefined> = {
  pending: LIVE_TAGGED,
  running: LIVE_TAGGED,
  awaiting_approval: LIVE_TAGGED,
  blocked: LIVE_TAGGED,
  failed: "t.status = 'failed'",
  cancelled: "t.status = 'cancelled'",
};

/**
 * Newest first, only those of `status`, a page at a time. Each pipeline's status comes from its
 * tasks, read by their ids. Other than for `completed`, only the pipelines named by the tag
 * `pipeline:<id>` of a task in a status theirs needs are looked at, so the cost follows those
 * tasks (the live pipelines' steps, the failed or cancelled ones kept), not the pipelines kept nor
 * the rest of the queue.
 */
export async function listPipelinesByStatus(db: Queryable, status: string, limit: number, offset: number): Promise<PipelineRow[]> {
  const steps = STEPS_OF[status];
  // An array, not `IN (subquery)`: the planner cannot tell how few live tasks carry tags (it
  // assumes as many as among all tasks), and for a join would read every pipeline; with the ids
  // in hand it looks each one up.
  const candidates =
    steps === undefined
      ? ""
      : `AND p.id = ANY(ARRAY(SELECT substr(tag, 10) FROM ph_tasks t, jsonb_array_elements_text(${TAGS_OF_T}) AS tag
                             WHERE ${steps} AND tag LIKE 'pipeline:%'))`;
  const { rows } = await db.query<PipelineRow>(
    `SELECT p.* FROM ph_pipelines p CROSS JOIN LATERAL (${STEP_COUNTS}) c
     WHERE ${PIPELINE_STATUS} = $1 ${candidates}
     ORDER BY p.id DESC LIMIT $2 OFFSET $3`,
    [status, limit, offset],
  );
  return rows;
}
