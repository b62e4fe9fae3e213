import type { Queryable } from "../../db.js";
import type { HookFields, HookRow } from "./hook-row.js";

/** Saves a hook's fields; undefined when it is gone; throws on a name another hook has. */
export async function updateHook(db: Queryable, id: string, fields: HookFields): Promise<HookRow | undefined> {
  const { rows } = await db.query<HookRow>(
    "UPDATE ph_hooks SET name = $2, secret = $3, task = $4::jsonb, enabled = $5, signing = $6, previous_secret = $7, previous_secret_until = $8, updated_at = now() WHERE id = $1 RETURNING *",
    [id, fields.name, fields.secret, JSON.stringify(fields.task), fields.enabled, fields.signing, fields.previous_secret, fields.previous_secret_until],
  );
  return rows[0];
}
