import type { Queryable } from "../db.js";
import type { NewTaskEvent } from "../interfaces.js";

/** Appends events (output chunks, status changes) of many tasks in one statement. */
export async function insertEvents(db: Queryable, events: readonly NewTaskEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db.query(
    `INSERT INTO ph_task_events (task_id, kind, stream, data, bytes)
     SELECT e.task_id, e.kind, e.stream, e.data, e.bytes
     FROM jsonb_to_recordset($1::jsonb) AS e(task_id text, kind text, stream text, data text, bytes int)
     WHERE EXISTS (SELECT 1 FROM ph_tasks t WHERE t.id = e.task_id)`,
    [JSON.stringify(events)],
  );
}
