/**
 * The embedded default: PGlite (Postgres compiled to WASM) in a data directory, in this process.
 * One process per data directory; scale-out across processes needs a PostgreSQL server.
 */
import { EventEmitter } from "node:events";
import { PGlite } from "@electric-sql/pglite";
// The title search's trigram index (migration 028); shipped inside the PGlite package.
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import type { Db, Queryable, QueryResult } from "./db.js";

function wrap(target: Pick<PGlite, "query">): Queryable {
  return {
    async query<Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
      const result = await target.query<Row>(sql, [...params]);
      return { rows: result.rows, affectedRows: result.affectedRows ?? 0 };
    },
  };
}

export async function openPgliteDb(dataDir?: string): Promise<Db> {
  // PGlite prints the server's notices to the console; our SQL raises none worth showing.
  const pg = await PGlite.create(dataDir, { debug: 0, extensions: { pg_trgm } });
  const queryable = wrap(pg);
  // Notifications never leave this process: an EventEmitter is all it takes.
  const bus = new EventEmitter();
  bus.setMaxListeners(0);
  return {
    kind: "pglite",
    query: queryable.query,
    transaction: (fn) => pg.transaction((tx) => fn(wrap(tx))),
    exec: async (sql) => {
      await pg.exec(sql);
    },
    notify: (channel, payload) => {
      bus.emit(channel, payload);
      return Promise.resolve();
    },
    listen: (channel, handler) => {
      bus.on(channel, handler);
      return Promise.resolve(() => {
        bus.off(channel, handler);
        return Promise.resolve();
      });
    },
    sqlChannel: () => undefined,
    close: () => pg.close(),
  };
}
