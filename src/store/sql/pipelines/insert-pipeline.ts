import type { Queryable } from "../../db.js";
import type { NewPipelineRow, PipelineRow } from "./pipeline-row.js";

/** Stores a pipeline; undefined when its idempotency key is taken (the pipeline asked for already). */
export async function insertPipeline(db: Queryable, row: NewPipelineRow): Promise<PipelineRow | undefined> {
  const { rows } = await db.query<PipelineRow>(
    `INSERT INTO ph_pipelines (id, title, origin, idempotency_key, steps, task_ids) VALUES ($1, $2, $3, $4, $5::jsonb, $6::text[])
     ON CONFLICT (idempotency_key) DO NOTHING RETURNING *`,
    [row.id, row.title, row.origin, row.idempotency_key, JSON.stringify(row.steps), row.task_ids],
  );
  return rows[0];
}
