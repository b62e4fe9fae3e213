import type { Queryable } from "../../db.js";
import type { TemplateFields, TemplateRow } from "./template-row.js";

/** Creates the template, or replaces the one of that name (its id stays); returns it and whether it is new. */
export async function upsertTemplate(db: Queryable, id: string, fields: TemplateFields): Promise<{ row: TemplateRow; created: boolean }> {
  const { rows } = await db.query<TemplateRow & { created: boolean }>(
    `INSERT INTO ph_templates (id, name, description, task) VALUES ($1, $2, $3, $4::jsonb)
     ON CONFLICT (name) DO UPDATE SET description = EXCLUDED.description, task = EXCLUDED.task, updated_at = now()
     RETURNING *, (xmax = 0) AS created`,
    [id, fields.name, fields.description, JSON.stringify(fields.task)],
  );
  const { created, ...row } = rows[0] as TemplateRow & { created: boolean };
  return { row, created };
}
