import type { JsonObject } from "../../../tasks/types.js";

/** A row of ph_templates as the SQL returns it. */
export interface TemplateRow {
  id: string;
  name: string;
  description: string;
  /** A task request whose strings may hold "{{params.<name>}}" placeholders. */
  task: JsonObject;
  created_at: Date;
  updated_at: Date;
}

export type TemplateFields = Pick<TemplateRow, "name" | "description" | "task">;
