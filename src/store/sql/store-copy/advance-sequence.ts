import type { Queryable } from "../../db.js";
import { quoteIdentifier } from "./quote-identifier.js";

/** Sets the sequence `table`'s `column` draws from past the column's largest value, so that the next row after a copy gets a new one (left as it is for an empty table). */
export async function advanceSequence(db: Queryable, table: string, column: string): Promise<void> {
  await db.query(
    `SELECT setval(pg_get_serial_sequence($1, $2), m) FROM (SELECT max(${quoteIdentifier(column)}) AS m FROM ${quoteIdentifier(table)}) x WHERE m IS NOT NULL`,
    [quoteIdentifier(table), column],
  );
}
