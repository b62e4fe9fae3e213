import type { Queryable } from "../../db.js";

/** Whose spend a report groups by: the drive whose writers asked (migration 040), or the person who asked (045). */
export type SpendGrouping = "writers_drive" | "asked_by";

export type GroupedSpendRow<K extends string> = Record<K, string | null> & { cost_usd: number; runs: number };

/** Spend in the last `windowMs` per value of `column` (named `as` in the rows), the costliest first; null groups what has none. */
export async function selectSpendGrouped<K extends string>(db: Queryable, column: SpendGrouping, as: K, windowMs: number, limit: number): Promise<GroupedSpendRow<K>[]> {
  // `column` is one of two names (SpendGrouping), `as` the caller's literal: neither comes from input.
  const { rows } = await db.query<GroupedSpendRow<K>>(
    `SELECT ${column} AS ${as}, sum(cost_usd)::float8 AS cost_usd, count(*)::int AS runs
       FROM ph_run_costs
      WHERE recorded_at > now() - make_interval(secs => $1::float8 / 1000.0)
      GROUP BY ${column}
      ORDER BY 2 DESC, 1 NULLS LAST
      LIMIT $2`,
    [windowMs, limit],
  );
  return rows;
}
