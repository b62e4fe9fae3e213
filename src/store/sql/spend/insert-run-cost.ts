import type { Queryable } from "../../db.js";

export interface RunCost {
  taskId: string;
  attempt: number;
  taskType: string;
  /** The task's source drive and document, if it came from one. */
  driveId?: string | undefined;
  documentId?: string | undefined;
  /** The drive whose writers asked for it (task-from-document.ts writersDrive); undefined: the owner's own task. */
  writersDrive?: string | undefined;
  /** Who asked, as proven (the task's source.by); undefined: no one named. */
  askedBy?: string | undefined;
  costUsd: number;
}

/** Records one run's cost; a run recorded already (its end written twice) keeps its first. True when new. */
export async function insertRunCost(db: Queryable, workerId: string, cost: RunCost): Promise<boolean> {
  const { affectedRows } = await db.query(
    `INSERT INTO ph_run_costs (task_id, attempt, task_type, drive_id, document_id, cost_usd, worker_id, writers_drive, asked_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (task_id, attempt) DO NOTHING`,
    [cost.taskId, cost.attempt, cost.taskType, cost.driveId ?? null, cost.documentId ?? null, cost.costUsd, workerId, cost.writersDrive ?? null, cost.askedBy ?? null],
  );
  return affectedRows > 0;
}
