import type { Queryable } from "../../db.js";
import { quoteIdentifier } from "./quote-identifier.js";

/** How many rows `table` holds. */
export async function countTableRows(db: Queryable, table: string): Promise<number> {
  const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteIdentifier(table)}`);
  return Number(rows[0]?.n ?? 0);
}
