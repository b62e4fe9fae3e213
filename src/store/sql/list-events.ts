import type { Queryable } from "../db.js";
import type { TaskEventRow } from "../interfaces.js";

/** A task's events after a sequence number, oldest first (what a reconnecting live view replays). */
export async function listEvents(db: Queryable, taskId: string, afterSeq: number, limit: number): Promise<TaskEventRow[]> {
  const { rows } = await db.query<TaskEventRow>(
    `SELECT seq::float8 AS seq, task_id, kind, stream, data, created_at FROM ph_task_events
     WHERE task_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
    [taskId, afterSeq, limit],
  );
  return rows;
}
