import type { Queryable } from "../../db.js";

/**
 * The pipeline's end was written back (or there is nothing to write for it): `status` goes in
 * written_status, the lease is let go. With `mark`, only while that end is still the one taken.
 */
export async function markWrittenStatus(db: Queryable, pipelineId: string, status: string, mark?: string): Promise<void> {
  await db.query(
    "UPDATE ph_pipelines SET written_status = $2, writing_end = NULL, writing_until = NULL WHERE id = $1 AND ($3::text IS NULL OR writing_end = $3)",
    [pipelineId, status, mark ?? null],
  );
}
