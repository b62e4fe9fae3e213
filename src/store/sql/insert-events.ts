import type { Queryable } from "../db.js";
import type { NewTaskEvent } from "../interfaces.js";
import { eventColumns } from "./claim-tasks.js";

/**
 * Appends events (output chunks, status changes) of many tasks in one statement. No check that the
 * task exists (see migration 006): entries of a deleted task go with the retention cleanup.
 */
export async function insertEvents(db: Queryable, events: readonly NewTaskEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db.query(
    `INSERT INTO ph_task_events (task_id, kind, stream, data, bytes)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[])`,
    eventColumns(events),
  );
}
