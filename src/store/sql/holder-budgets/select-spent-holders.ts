import type { Queryable } from "../../db.js";
import { HOLDER_TABLES, type HolderKind } from "./budget-holder-tables.js";

/** The holders of `kind` recorded as having spent their budget (migrations 041, 047), the longest spent first; at most `limit`. */
export async function selectSpentHolders(db: Queryable, kind: HolderKind, limit: number): Promise<string[]> {
  const { spent, key } = HOLDER_TABLES[kind];
  const { rows } = await db.query<{ holder: string }>(`SELECT ${key} AS holder FROM ${spent} ORDER BY spent_since, ${key} LIMIT $1`, [limit]);
  return rows.map((r) => r.holder);
}
