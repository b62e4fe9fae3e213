import type { Queryable } from "../../db.js";
import type { HookRow } from "./hook-row.js";

/** Every hook, by name. */
export async function listHooks(db: Queryable): Promise<HookRow[]> {
  const { rows } = await db.query<HookRow>("SELECT * FROM ph_hooks ORDER BY name");
  return rows;
}
