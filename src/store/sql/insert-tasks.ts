import type { Queryable } from "../db.js";
import { statusEntriesFrom } from "./status-entries.js";
import type { NewTaskRow, TaskRow } from "../interfaces.js";
import { WAITING_RUN_AT } from "../migrations/013-task-dependencies.js";
import { tagRowsFrom } from "../migrations/025-task-tags.js";

/**
 * Inserts tasks in one statement; a task whose idempotency key exists is skipped (not returned).
 * A task with dependencies goes in waiting (register-dependencies.ts releases it); one with a
 * runAt in the future goes in due then, and its age for the priority counts from then.
 * Each new task's first event-log entry ("pending") goes in with it: a claim that comes a moment
 * later logs "running" after it, never before; so do its tags' and title's rows (the tag filter's
 * and the title search's indexes, 025 and 028).
 *
 * Priority by type and age: rank_at = created_at − priority × TASK_AGING_MS. Claims take the
 * smallest rank_at, which is ranking by `priority + waited / TASK_AGING_MS`: every TASK_AGING_MS a
 * task waits is worth one priority point, so a low-priority task waits at most
 * (Δpriority × TASK_AGING_MS) behind a stream of higher ones — nothing starves — and the claim
 * walks an index instead of sorting. A task's default priority comes from its executor's type.
 */
export async function insertTasks(db: Queryable, tasks: readonly NewTaskRow[]): Promise<TaskRow[]> {
  const { rows } = await db.query<TaskRow>(
    `WITH inserted AS (
     INSERT INTO ph_tasks (id, type, title, instructions, params, status, priority, rank_at, max_attempts,
                           timeout_ms, idempotency_key, drive_id, document_id, source, run_at)
     SELECT t.id, t.type, t.title, t.instructions, t.params, 'pending', t.priority,
            greatest(now(), t.run_at) - make_interval(secs => t.priority * t.aging_ms / 1000.0),
            t.max_attempts, t.timeout_ms, t.idempotency_key, t.drive_id, t.document_id, t.source,
            CASE WHEN t.waiting THEN '${WAITING_RUN_AT}'::timestamptz ELSE greatest(now(), t.run_at) END
     FROM jsonb_to_recordset($1::jsonb) AS t(id text, type text, title text, instructions text, params jsonb,
          priority int, max_attempts int, timeout_ms int, idempotency_key text, drive_id text, document_id text,
          source jsonb, aging_ms float8, waiting boolean, run_at timestamptz)
     ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
     RETURNING *
     ), ${statusEntriesFrom("inserted", `'{"status":"pending","attempt":0}'::text`)},
     tagged AS (INSERT INTO ph_task_tags (task_id, tag) ${tagRowsFrom("inserted")}),
     titled AS (INSERT INTO ph_task_titles (task_id, title) SELECT id, title FROM inserted)
     SELECT * FROM inserted`,
    [JSON.stringify(tasks)],
  );
  return rows;
}
