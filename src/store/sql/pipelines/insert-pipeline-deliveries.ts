import type { Queryable } from "../../db.js";
import type { PipelineEvent } from "../webhooks/webhook-row.js";

/**
 * One delivery of `event` about pipeline `pipelineId` to each enabled webhook that asks for it
 * (the task filters — type, drive — are about tasks and do not apply). Returns how many.
 */
export async function insertPipelineDeliveries(db: Queryable, pipelineId: string, event: PipelineEvent, payload: Record<string, unknown>): Promise<number> {
  const { affectedRows } = await db.query(
    `INSERT INTO ph_webhook_deliveries (id, webhook_id, task_id, event, payload)
     SELECT gen_random_uuid()::text, w.id, $1, $2, $3::jsonb FROM ph_webhooks w WHERE w.enabled AND $2 = ANY (w.events)`,
    [pipelineId, event, JSON.stringify(payload)],
  );
  return affectedRows;
}
