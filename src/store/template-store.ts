/** The named task templates' table, beside the tasks': one interface over sql/templates/. */
import type { Db } from "./db.js";
import { deleteTemplate } from "./sql/templates/delete-template.js";
import { listTemplates } from "./sql/templates/list-templates.js";
import { selectTemplate } from "./sql/templates/select-template.js";
import type { TemplateFields, TemplateRow } from "./sql/templates/template-row.js";
import { upsertTemplate } from "./sql/templates/upsert-template.js";

export class TemplateStore {
  constructor(readonly db: Db) {}

  upsert(id: string, fields: TemplateFields): Promise<{ row: TemplateRow; created: boolean }> {
    return upsertTemplate(this.db, id, fields);
  }

  get(idOrName: string): Promise<TemplateRow | undefined> {
    return selectTemplate(this.db, idOrName);
  }

  list(): Promise<TemplateRow[]> {
    return listTemplates(this.db);
  }

  delete(id: string): Promise<boolean> {
    return deleteTemplate(this.db, id);
  }
}
