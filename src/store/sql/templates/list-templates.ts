import type { Queryable } from "../../db.js";
import type { TemplateRow } from "./template-row.js";

/** Every template, by name. */
export async function listTemplates(db: Queryable): Promise<TemplateRow[]> {
  const { rows } = await db.query<TemplateRow>("SELECT * FROM ph_templates ORDER BY name");
  return rows;
}
