import type { Queryable } from "../db.js";
import { statusEntriesFrom } from "./status-entries.js";

/**
 * Returns a worker's running tasks to the queue at once (graceful shutdown): the interrupted
 * attempt does not count, the task keeps its rank. Returns the ids released. Their "pending"
 * entry of the event log goes in with the change, before another worker can claim them.
 */
export async function releaseTasks(db: Queryable, workerId: string, ids: readonly string[]): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `WITH changed AS (
       UPDATE ph_tasks
       SET status = 'pending', attempts = greatest(attempts - 1, 0), run_at = now(), locked_by = NULL,
           lease_expires_at = NULL, updated_at = now()
       WHERE id = ANY($2::text[]) AND status = 'running' AND locked_by = $1
       RETURNING id
     ), ${statusEntriesFrom("changed", `'{"status":"pending","reason":"shutdown"}'::text`)}
     SELECT id FROM changed`,
    [workerId, ids],
  );
  return rows.map((r) => r.id);
}
