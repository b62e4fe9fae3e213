import type { Queryable } from "../../db.js";

/**
 * Where a store's tables are, as the server sees it: its address and port (null over a Unix socket
 * and on PGlite), the database and the schema. Two URLs that spell the same store differently
 * (localhost and 127.0.0.1) give the same identity.
 */
export async function selectStoreIdentity(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ identity: string }>(
    `SELECT concat_ws('/', coalesce(host(inet_server_addr()), 'local'), coalesce(inet_server_port()::text, ''), current_database(), current_schema()) AS identity`,
  );
  return rows[0]?.identity ?? "";
}
