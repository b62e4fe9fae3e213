import type { Queryable } from "../../db.js";

/** Removes a template (the tasks made from it stay); false when there was none. */
export async function deleteTemplate(db: Queryable, id: string): Promise<boolean> {
  const { affectedRows } = await db.query("DELETE FROM ph_templates WHERE id = $1", [id]);
  return affectedRows > 0;
}
