import type { Queryable } from "../db.js";
import type { TaskEventRow } from "../interfaces.js";
import { ROW_STATUS_ENTRIES } from "./status-entries.js";

/**
 * A task's status entries of the event log, oldest first — the stored ones and those its row still
 * holds (the current run's "running" and end, migration 008) — without its output. At most `limit`.
 */
export async function listStatusEntries(db: Queryable, taskId: string, limit: number): Promise<TaskEventRow[]> {
  const { rows } = await db.query<TaskEventRow>(
    `SELECT seq::float8 AS seq, task_id, kind, stream, data, created_at FROM (
       SELECT seq, task_id, kind, stream, data, created_at FROM ph_task_events WHERE task_id = $1 AND kind = 'status'
       UNION ALL
       ${ROW_STATUS_ENTRIES} WHERE t.id = $1
     ) e ORDER BY e.seq LIMIT $2`,
    [taskId, limit],
  );
  return rows;
}
