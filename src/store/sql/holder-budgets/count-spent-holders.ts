import type { Queryable } from "../../db.js";
import { HOLDER_TABLES, type HolderKind } from "./budget-holder-tables.js";

/** How many holders of `kind` are recorded as having spent their budget (a row each, few). */
export async function countSpentHolders(db: Queryable, kind: HolderKind): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${HOLDER_TABLES[kind].spent}`);
  return rows[0]?.n ?? 0;
}
