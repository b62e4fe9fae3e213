import type { Queryable } from "../../db.js";
import type { HookRow } from "./hook-row.js";

/** One hook by id or by name. */
export async function selectHook(db: Queryable, idOrName: string): Promise<HookRow | undefined> {
  const { rows } = await db.query<HookRow>("SELECT * FROM ph_hooks WHERE id = $1 OR name = $1 LIMIT 1", [idOrName]);
  return rows[0];
}
