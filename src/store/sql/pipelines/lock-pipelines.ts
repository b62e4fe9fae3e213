import type { Queryable } from "../../db.js";
import type { PipelineRow } from "./pipeline-row.js";

/**
 * The pipelines of these ids, locked until the transaction ends, in id order (two workers locking
 * overlapping sets wait for each other instead of deadlocking). A worker that waited reads the rows
 * as the other left them: its announced_status included.
 */
export async function lockPipelines(db: Queryable, ids: readonly string[]): Promise<PipelineRow[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<PipelineRow>("SELECT * FROM ph_pipelines WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE", [ids]);
  return rows;
}
