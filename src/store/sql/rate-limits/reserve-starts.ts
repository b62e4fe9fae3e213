import type { Queryable } from "../../db.js";
import type { StartsGrant } from "./rate-limit-row.js";

/**
 * Reserves up to `counts[i]` starts of `types[i]` now, as many as each type's window has room
 * for (ph_reserve_starts, migration 018); a type without a limit is not returned. The types are
 * taken in sorted order, so two workers never wait on each other's rows in opposite orders.
 */
export async function reserveStarts(db: Queryable, wanted: ReadonlyMap<string, number>): Promise<StartsGrant[]> {
  const types = [...wanted.keys()].sort();
  const { rows } = await db.query<StartsGrant>("SELECT task_type, granted, at, next_free_at FROM ph_reserve_starts($1::text[], $2::int[])", [types, types.map((t) => wanted.get(t) ?? 0)]);
  return rows;
}
