import type { Queryable } from "../db.js";
import type { TaskEventRow } from "../interfaces.js";
import { ROW_STATUS_ENTRIES } from "./status-entries.js";

/**
 * A task's events after a sequence number, oldest first (what a reconnecting live view replays):
 * the stored entries and, merged in by sequence number, the status entries its row still holds
 * (the current run's "running" and end, migration 008).
 */
export async function listEvents(db: Queryable, taskId: string, afterSeq: number, limit: number): Promise<TaskEventRow[]> {
  const { rows } = await db.query<TaskEventRow>(
    `SELECT seq::float8 AS seq, task_id, kind, stream, data, created_at FROM (
       SELECT seq, task_id, kind, stream, data, created_at FROM ph_task_events WHERE task_id = $1 AND seq > $2
       UNION ALL
       SELECT * FROM (${ROW_STATUS_ENTRIES} WHERE t.id = $1) r WHERE r.seq > $2
     ) e ORDER BY e.seq LIMIT $3`,
    [taskId, afterSeq, limit],
  );
  return rows;
}
