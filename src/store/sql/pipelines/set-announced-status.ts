import type { Queryable } from "../../db.js";

/** Records the end last announced for a pipeline (null: it runs again, its next end is announced). */
export async function setAnnouncedStatus(db: Queryable, pipelineId: string, status: string | null): Promise<void> {
  await db.query("UPDATE ph_pipelines SET announced_status = $2 WHERE id = $1", [pipelineId, status]);
}
