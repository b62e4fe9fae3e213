import type { Queryable } from "../../db.js";

/** Removes a hook (the tasks it made stay); false when there was none. */
export async function deleteHook(db: Queryable, id: string): Promise<boolean> {
  const { affectedRows } = await db.query("DELETE FROM ph_hooks WHERE id = $1", [id]);
  return affectedRows > 0;
}
