import type { Queryable } from "../../db.js";

/** A worker that stopped: its row goes (a stopped worker is not a lost one). */
export async function deleteWorker(db: Queryable, workerId: string): Promise<void> {
  await db.query("DELETE FROM ph_workers WHERE worker_id = $1", [workerId]);
}
