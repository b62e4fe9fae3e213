import type { Queryable } from "../../db.js";
import { NOT_HELD, type UnwrittenEnds } from "../write-back-sql.js";
import { PIPELINE_TAG_PREFIX } from "./pipeline-row.js";
import { PIPELINE_STATUS, STEP_COUNTS } from "./pipeline-status-sql.js";

/**
 * Trigger rules' pipelines that have ended with their end not written back and not held by a writer
 * (the worker that ended the last step stopped before it took it, or between taking and writing it).
 * With `since`, only the pipelines of steps that ended since then (through ph_tasks_finished, the
 * steps' `pipeline:<id>` tags) and those whose writer's lease ran out (ph_pipelines_held, migration
 * 034). Without, every rule pipeline not written (the partial index of migration 032: the running
 * ones too) — at start, and now and then. `at`: the database's clock, for the next look's `since`.
 */
export async function selectUnwrittenRuleEnds(db: Queryable, limit: number, since?: Date): Promise<UnwrittenEnds> {
  // The pipelines of steps that ended since `since`, and those whose writer's lease ran out.
  const recent = `SELECT substr(tag, ${PIPELINE_TAG_PREFIX.length + 1})
       FROM ph_tasks t, jsonb_array_elements_text(t.params->'tags') AS tag
       WHERE t.finished_at >= $2 AND jsonb_typeof(t.params->'tags') = 'array' AND tag LIKE '${PIPELINE_TAG_PREFIX}%'
       UNION
       SELECT id FROM ph_pipelines WHERE written_status IS NULL AND writing_until IS NOT NULL AND writing_until < now()`;
  const { rows } = await db.query<{ at: Date; ids: string[] }>(
    `SELECT now() AS at, ARRAY(
       SELECT p.id FROM ph_pipelines p CROSS JOIN LATERAL (${STEP_COUNTS}) c
       WHERE ${since ? `p.id IN (${recent}) AND ` : ""}p.written_status IS NULL AND ${NOT_HELD("p")} AND p.origin LIKE 'rule:%'
         AND ${PIPELINE_STATUS} IN ('completed', 'failed', 'cancelled')
       ORDER BY p.id LIMIT $1) AS ids`,
    since ? [limit, since] : [limit],
  );
  return { at: rows[0]!.at, ids: rows[0]!.ids };
}
