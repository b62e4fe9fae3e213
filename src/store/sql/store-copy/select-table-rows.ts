import type { Queryable } from "../../db.js";
import type { StoreTable } from "./list-store-tables.js";
import { quoteIdentifier } from "./quote-identifier.js";

/**
 * Up to `limit` rows of `table` after the row at `after` (its ctid; "(0,0)" for the first), as
 * JSON text — the database writes every value the way it reads it back (timestamps to the
 * microsecond, bytea as hex, arrays, jsonb). Walks the table in its physical order, which a
 * transaction's snapshot keeps still (a TID range scan: no sort, no offset to skip).
 */
export async function selectTableRows(db: Queryable, table: StoreTable, after: string, limit: number): Promise<{ at: string; row: string }[]> {
  const { rows } = await db.query<{ at: string; row: string }>(
    `SELECT t.ctid::text AS at, row_to_json(t)::text AS row FROM ${quoteIdentifier(table.name)} t
      WHERE t.ctid > $1::tid ORDER BY t.ctid LIMIT $2`,
    [after, limit],
  );
  return rows;
}
