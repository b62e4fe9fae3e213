import type { Queryable } from "../../db.js";
import type { PipelineRow } from "./pipeline-row.js";

export async function selectPipeline(db: Queryable, id: string): Promise<PipelineRow | undefined> {
  const { rows } = await db.query<PipelineRow>("SELECT * FROM ph_pipelines WHERE id = $1", [id]);
  return rows[0];
}

export async function selectPipelineByIdempotencyKey(db: Queryable, key: string): Promise<PipelineRow | undefined> {
  const { rows } = await db.query<PipelineRow>("SELECT * FROM ph_pipelines WHERE idempotency_key = $1", [key]);
  return rows[0];
}
