import type { Queryable } from "../../db.js";
import { HOLDER_TABLES, type Holder } from "./budget-holder-tables.js";

/** Removes the budget set for `holder` (its settings hold it again); false when none was set. */
export async function deleteHolderBudget(db: Queryable, holder: Holder): Promise<boolean> {
  const { budgets, key } = HOLDER_TABLES[holder.kind];
  const { rows } = await db.query(`DELETE FROM ${budgets} WHERE ${key} = $1 RETURNING 1`, [holder.id]);
  return rows.length > 0;
}
