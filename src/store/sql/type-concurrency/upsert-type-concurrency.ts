import type { Queryable } from "../../db.js";

/** Caps a type at `maxRunning` tasks running at once across every worker (a new cap replaces the old). */
export async function upsertTypeConcurrency(db: Queryable, type: string, maxRunning: number, reason: string): Promise<void> {
  await db.query(
    `INSERT INTO ph_type_concurrency (task_type, max_running, reason) VALUES ($1, $2, $3)
     ON CONFLICT (task_type) DO UPDATE SET max_running = EXCLUDED.max_running, reason = EXCLUDED.reason, set_at = now()`,
    [type, maxRunning, reason],
  );
}
