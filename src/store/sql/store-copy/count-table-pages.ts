import type { Queryable } from "../../db.js";
import { quoteIdentifier } from "./quote-identifier.js";

/** How many heap pages `table` has now: its rows a snapshot taken before sees are all in them (selectTableRows walks them). */
export async function countTablePages(db: Queryable, table: string): Promise<number> {
  const { rows } = await db.query<{ pages: string }>(`SELECT pg_relation_size($1::regclass) / current_setting('block_size')::bigint AS pages`, [quoteIdentifier(table)]);
  return Number(rows[0]?.pages ?? 0);
}
