/** Finished tasks inserted directly, as a store keeps them after weeks of work ('old-000001'…). */
import type { Queryable } from "../../src/store/db.js";

export async function insertFinishedHistory(db: Queryable, count: number, titlePrefix: string): Promise<void> {
  await db.query(
    `INSERT INTO ph_tasks (id, type, title, params, status, priority, rank_at, attempts, max_attempts, timeout_ms, finished_at)
     SELECT 'old-' || lpad(i::text, 6, '0'), 'cli', $2 || i, '{"command":"true"}'::jsonb, 'completed', 50, now(), 1, 3, 60000, now()
     FROM generate_series(1, $1::int) i`,
    [count, titlePrefix],
  );
  await db.query("ANALYZE ph_tasks");
}
