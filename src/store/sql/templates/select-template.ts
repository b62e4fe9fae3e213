import type { Queryable } from "../../db.js";
import type { TemplateRow } from "./template-row.js";

/** One template by id or by name. */
export async function selectTemplate(db: Queryable, idOrName: string): Promise<TemplateRow | undefined> {
  const { rows } = await db.query<TemplateRow>("SELECT * FROM ph_templates WHERE id = $1 OR name = $1 LIMIT 1", [idOrName]);
  return rows[0];
}
