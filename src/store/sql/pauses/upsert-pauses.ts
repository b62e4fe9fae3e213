import type { Queryable } from "../../db.js";

/** Pauses the types given ("*": all); a type paused already keeps when it was paused, takes the new reason. */
export async function upsertPauses(db: Queryable, types: readonly string[], reason: string): Promise<void> {
  await db.query(
    `INSERT INTO ph_queue_pauses (task_type, reason) SELECT unnest($1::text[]), $2
     ON CONFLICT (task_type) DO UPDATE SET reason = EXCLUDED.reason`,
    [types, reason],
  );
}
