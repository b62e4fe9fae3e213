import type { Queryable } from "../../db.js";
import type { StoreTable } from "./list-store-tables.js";
import { quoteIdentifier } from "./quote-identifier.js";

/**
 * Up to `limit` rows of `table` after the row at `after` (its ctid; "(0,0)" for the first), with
 * their ctids, as JSON text: for tables whose rows may each hold megabytes (kept conversations), a
 * few rows at a time whatever fits in a page. Only the rows' addresses are sorted to find the next
 * few; the rows themselves are read (and their bytes fetched) for those alone.
 */
export async function selectTableRowsAfter(db: Queryable, table: StoreTable, after: string, limit: number): Promise<{ at: string; row: string }[]> {
  const name = quoteIdentifier(table.name);
  const { rows } = await db.query<{ at: string; row: string }>(
    `SELECT t.ctid::text AS at, row_to_json(t)::text AS row FROM ${name} t
      WHERE t.ctid = ANY (ARRAY(SELECT c.ctid FROM ${name} c WHERE c.ctid > $1::tid ORDER BY c.ctid LIMIT $2))
      ORDER BY t.ctid`,
    [after, limit],
  );
  return rows;
}
