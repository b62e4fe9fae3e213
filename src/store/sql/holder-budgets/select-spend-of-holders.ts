import type { Queryable } from "../../db.js";
import { HOLDER_TABLES, type HolderKind } from "./budget-holder-tables.js";

export interface HolderSpendRow {
  holder: string;
  cost_usd: number;
  runs: number;
}

/** Spend in the last `windowMs` of each of `ids` (drives' writers, or people; one that spent nothing has no row). */
export async function selectSpendOfHolders(db: Queryable, kind: HolderKind, windowMs: number, ids: readonly string[]): Promise<HolderSpendRow[]> {
  const column = HOLDER_TABLES[kind].costColumn;
  const { rows } = await db.query<HolderSpendRow>(
    `SELECT ${column} AS holder, sum(cost_usd)::float8 AS cost_usd, count(*)::int AS runs
       FROM ph_run_costs
      WHERE recorded_at > now() - make_interval(secs => $1::float8 / 1000.0) AND ${column} = ANY($2::text[])
      GROUP BY ${column}`,
    [windowMs, ids],
  );
  return rows;
}
