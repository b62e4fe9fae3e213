/** A row of "why tasks failed" (/api/stats `failures`, /api/failures) as the API gives it. */
import type { FailureReasonRow } from "../store/sql/select-failure-reasons.js";

export function failureToJson(row: FailureReasonRow) {
  return { type: row.type, code: row.code, count: row.count, lastAt: row.last_at.toISOString(), lastMessage: row.last_message, lastTaskId: row.last_task_id };
}
