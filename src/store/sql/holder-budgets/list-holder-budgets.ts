import type { Queryable } from "../../db.js";
import { HOLDER_TABLES, type HolderKind } from "./budget-holder-tables.js";
import type { HolderBudgetRow } from "./holder-budget-row.js";

/** The budgets of `kind` set (of `ids`, or all, at most `limit`), by id: one primary-key read for one. */
export async function listHolderBudgets(db: Queryable, kind: HolderKind, ids?: readonly string[], limit = 1000): Promise<HolderBudgetRow[]> {
  const { budgets, key } = HOLDER_TABLES[kind];
  const { rows } = await db.query<HolderBudgetRow>(
    `SELECT ${key} AS holder, usd_per_day, reason, set_by, set_at FROM ${budgets}
      WHERE $1::text[] IS NULL OR ${key} = ANY($1::text[]) ORDER BY ${key} LIMIT $2`,
    [ids ?? null, limit],
  );
  return rows;
}
