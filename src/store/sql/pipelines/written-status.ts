import type { Queryable } from "../../db.js";

/**
 * Takes the writing of a pipeline's end (`status`) back to its document: true for the one caller
 * that changes written_status to it, false for any other (the row lock makes two workers that saw
 * the same end at once take turns, and the second finds it written).
 */
export async function takeWrittenStatus(db: Queryable, pipelineId: string, status: string): Promise<boolean> {
  const { affectedRows } = await db.query("UPDATE ph_pipelines SET written_status = $2 WHERE id = $1 AND written_status IS DISTINCT FROM $2", [pipelineId, status]);
  return affectedRows === 1;
}

/** The pipeline runs again (a retry): its next end is written back, the same one included. */
export async function clearWrittenStatus(db: Queryable, pipelineId: string): Promise<void> {
  await db.query("UPDATE ph_pipelines SET written_status = NULL WHERE id = $1 AND written_status IS NOT NULL", [pipelineId]);
}
