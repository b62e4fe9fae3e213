import type { Queryable } from "../../db.js";
import { quoteIdentifier } from "./quote-identifier.js";

/** Empties `table` (a new store's one-row tables, replaced by the copied store's rows). */
export async function deleteTableRows(db: Queryable, table: string): Promise<void> {
  await db.query(`DELETE FROM ${quoteIdentifier(table)}`);
}
