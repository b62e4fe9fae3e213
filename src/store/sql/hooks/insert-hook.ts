import type { Queryable } from "../../db.js";
import type { HookRow, NewHookFields } from "./hook-row.js";

/** Inserts a hook; undefined when its name is taken. */
export async function insertHook(db: Queryable, id: string, fields: NewHookFields): Promise<HookRow | undefined> {
  const { rows } = await db.query<HookRow>(
    "INSERT INTO ph_hooks (id, name, secret, task, enabled, signing) VALUES ($1, $2, $3, $4::jsonb, $5, $6) ON CONFLICT (name) DO NOTHING RETURNING *",
    [id, fields.name, fields.secret, JSON.stringify(fields.task), fields.enabled, fields.signing],
  );
  return rows[0];
}
