import type { Queryable } from "../../db.js";
import type { RateScope, StartsGrant } from "./rate-limit-row.js";

/**
 * Reserves up to `wanted.get(key)` starts of each key now, as many as each window has room for
 * (ph_reserve_starts, migration 018); a key without a limit is not returned. The keys are taken in
 * sorted order, so two workers never wait on each other's rows in opposite orders.
 */
export async function reserveStarts(db: Queryable, scope: RateScope, wanted: ReadonlyMap<string, number>): Promise<StartsGrant[]> {
  const keys = [...wanted.keys()].sort();
  const { rows } = await db.query<StartsGrant>("SELECT key, granted, at, next_free_at FROM ph_reserve_starts($1, $2::text[], $3::int[])", [scope, keys, keys.map((k) => wanted.get(k) ?? 0)]);
  return rows;
}
