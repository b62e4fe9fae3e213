import type { Queryable } from "../../db.js";
import type { PauseRow } from "./pause-row.js";

/** Every pause, "*" first, then by type. */
export async function listPauses(db: Queryable): Promise<PauseRow[]> {
  const { rows } = await db.query<PauseRow>("SELECT task_type, reason, paused_at FROM ph_queue_pauses ORDER BY task_type <> '*', task_type");
  return rows;
}
