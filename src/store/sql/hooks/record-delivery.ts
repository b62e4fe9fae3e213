import type { Queryable } from "../../db.js";

/** Counts a delivery on its hook: accepted (with the task it made) or rejected (with why). */
export async function recordDelivery(db: Queryable, id: string, delivery: { accepted: boolean; taskId: string | null; error: string | null }): Promise<void> {
  await db.query(
    `UPDATE ph_hooks
     SET received_count = received_count + (CASE WHEN $2 THEN 1 ELSE 0 END),
         rejected_count = rejected_count + (CASE WHEN $2 THEN 0 ELSE 1 END),
         last_received_at = now(), last_task_id = coalesce($3, last_task_id), last_error = $4
     WHERE id = $1`,
    [id, delivery.accepted, delivery.taskId, delivery.error],
  );
}
