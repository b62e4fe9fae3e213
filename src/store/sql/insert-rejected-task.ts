import type { Queryable } from "../db.js";
import type { NewTaskRow, TaskRow } from "../interfaces.js";
import type { TaskError } from "../../tasks/types.js";
import { tagRowsFrom } from "../migrations/025-task-tags.js";

/**
 * Records a task that was asked for but refused (loop protection: chain depth, rate cap) as
 * cancelled with the reason, so the refusal is visible in the API and dashboard, never silent
 * (its tags and title too: found by tag or title like any task).
 */
export async function insertRejectedTask(db: Queryable, task: NewTaskRow, error: TaskError): Promise<TaskRow | undefined> {
  const { rows } = await db.query<TaskRow>(
    `WITH inserted AS (
     INSERT INTO ph_tasks (id, type, title, instructions, params, status, priority, rank_at, max_attempts, timeout_ms,
                           idempotency_key, drive_id, document_id, source, error, finished_at)
     VALUES ($1, $2, $3, $4, $5::jsonb, 'cancelled', $6, now(), $7, $8, $9, $10, $11, $12::jsonb, $13::jsonb, now())
     ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
     RETURNING *
     ), tagged AS (INSERT INTO ph_task_tags (task_id, tag) ${tagRowsFrom("inserted")}),
     titled AS (INSERT INTO ph_task_titles (task_id, title) SELECT id, title FROM inserted)
     SELECT * FROM inserted`,
    [task.id, task.type, task.title, task.instructions, JSON.stringify(task.params), task.priority, task.max_attempts, task.timeout_ms, task.idempotency_key, task.drive_id, task.document_id, JSON.stringify(task.source), JSON.stringify(error)],
  );
  return rows[0];
}
