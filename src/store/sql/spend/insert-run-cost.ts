import type { Queryable } from "../../db.js";

export interface RunCost {
  taskId: string;
  attempt: number;
  taskType: string;
  costUsd: number;
}

/** Records one run's cost; a run recorded already (its end written twice) keeps its first. True when new. */
export async function insertRunCost(db: Queryable, workerId: string, cost: RunCost): Promise<boolean> {
  const { affectedRows } = await db.query(
    `INSERT INTO ph_run_costs (task_id, attempt, task_type, cost_usd, worker_id) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (task_id, attempt) DO NOTHING`,
    [cost.taskId, cost.attempt, cost.taskType, cost.costUsd, workerId],
  );
  return affectedRows > 0;
}
