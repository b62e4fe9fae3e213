import type { Queryable } from "../../db.js";
import type { StoreTable } from "./list-store-tables.js";
import { quoteIdentifier } from "./quote-identifier.js";

/**
 * Rows read by selectTableRows (each a JSON object) written into `table` as they were: each value
 * read back by the column's own type; identity columns keep their values (OVERRIDING SYSTEM VALUE).
 * How many were written.
 */
export async function insertTableRows(db: Queryable, table: StoreTable, rows: readonly string[]): Promise<number> {
  const columns = table.columns.map(quoteIdentifier).join(", ");
  const { affectedRows } = await db.query(
    `INSERT INTO ${quoteIdentifier(table.name)} (${columns}) OVERRIDING SYSTEM VALUE
     SELECT ${columns} FROM json_populate_recordset(NULL::${quoteIdentifier(table.name)}, $1::json)`,
    [`[${rows.join(",")}]`],
  );
  return affectedRows;
}
