import type { Queryable } from "../../db.js";
import type { PipelineRow } from "./pipeline-row.js";

/** Newest first (ids are time-ordered, UUID v7), a page at a time. */
export async function listPipelines(db: Queryable, limit: number, offset: number): Promise<PipelineRow[]> {
  const { rows } = await db.query<PipelineRow>("SELECT * FROM ph_pipelines ORDER BY id DESC LIMIT $1 OFFSET $2", [limit, offset]);
  return rows;
}
