/**
 * A PostgreSQL server shared by many worker processes (node-postgres). LISTEN runs on one
 * dedicated connection that reconnects if it drops — again and again, half a second apart and up
 * to 5 s while the server refuses, for as long as the store is open — so wake-ups and cancels keep
 * arriving after an outage; once back, every handler hears an empty notification, standing for
 * whatever was announced while it was down. (Queries need nothing of the kind: the pool drops a dead connection and
 * opens a new one for the next query.)
 */
import { createHash } from "node:crypto";
import pg from "pg";
import { PLANNED_EACH_TIME, type Db, type Queryable, type QueryResult } from "./db.js";

export interface PostgresDbOptions {
  url: string;
  /** Tables live in this schema (created if missing); tests use one per run. */
  schema?: string;
  maxConnections?: number;
  onError?: (error: Error) => void;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Every statement runs as a named prepared statement (named by its text's hash): each connection
 * plans it once. The claim's plan alone costs more than its execution. Some texts are built from a
 * request (the task list has one per combination of filters), so the names are capped: past
 * MAX_NAMED_STATEMENTS distinct texts a new one is sent unnamed, planned each time, and no
 * connection holds more than that many prepared statements whatever the API is asked.
 */
const MAX_NAMED_STATEMENTS = 500;
const statementNames = new Map<string, string>();
function statementName(sql: string): string | undefined {
  if (sql.startsWith(PLANNED_EACH_TIME)) return undefined;
  let name = statementNames.get(sql);
  if (!name && statementNames.size < MAX_NAMED_STATEMENTS) {
    name = `ph_${createHash("sha1").update(sql).digest("hex").slice(0, 16)}`;
    statementNames.set(sql, name);
  }
  return name;
}

function wrap(client: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
      const name = statementName(sql);
      const result = await client.query(name ? { name, text: sql, values: [...params] } : { text: sql, values: [...params] });
      return { rows: result.rows as Row[], affectedRows: result.rowCount ?? 0 };
    },
  };
}

export async function openPostgresDb(options: PostgresDbOptions): Promise<Db> {
  const schema = options.schema ?? "public";
  if (!IDENTIFIER.test(schema)) throw new Error(`invalid schema name '${schema}': lower-case letters, digits, underscore`);
  // The application name tells this store's sessions apart from others on the database (the stats'
  // rollup waits only for this store's transactions in flight: sql/select-rollup-mark.ts); an
  // application_name in the URL wins.
  const connection = { connectionString: options.url, options: `-c search_path=${schema}`, application_name: `ph-tasks ${schema}` };
  const pool = new pg.Pool({ ...connection, max: options.maxConnections ?? 10 });
  pool.on("error", (error) => options.onError?.(error));
  if (schema !== "public") await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);

  // NOTIFY channels are database-wide: prefix them so stores in different schemas stay apart.
  const scoped = (channel: string) => (schema === "public" ? channel : `${schema}__${channel}`.slice(0, 63));
  const handlers = new Map<string, Set<(payload: string) => void>>();
  let listener: pg.Client | undefined;
  let closed = false;
  let reconnecting = false;
  let retryMs = 500;
  let lost = false;

  const reconnectLater = (): void => {
    if (closed || reconnecting) return;
    reconnecting = true;
    setTimeout(() => {
      reconnecting = false;
      if (closed || listener) return;
      connectListener().then(
        () => (retryMs = 500),
        (error: unknown) => {
          options.onError?.(error as Error);
          retryMs = Math.min(retryMs * 2, 5000);
          reconnectLater();
        },
      );
    }, retryMs).unref();
  };

  const connectListener = async (): Promise<void> => {
    const client = new pg.Client(connection);
    client.on("notification", (message) => {
      for (const handler of handlers.get(message.channel) ?? []) handler(message.payload ?? "");
    });
    client.on("error", (error) => {
      options.onError?.(error);
      if (listener === client) {
        listener = undefined;
        lost = true;
      }
      void client.end().catch(() => undefined);
      reconnectLater();
    });
    try {
      await client.connect();
      for (const channel of handlers.keys()) await client.query(`LISTEN ${channel}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (closed) return void (await client.end().catch(() => undefined));
    listener = client;
    if (lost) {
      lost = false;
      for (const set of handlers.values()) for (const handler of set) handler("");
    }
  };

  return {
    kind: "postgres",
    query: wrap(pool).query,
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const result = await fn(wrap(client));
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    async exec(sql) {
      await pool.query(sql);
    },
    async notify(channel, payload) {
      await pool.query("SELECT pg_notify($1, $2)", [scoped(channel), payload]);
    },
    async listen(name, handler) {
      const channel = scoped(name);
      if (!IDENTIFIER.test(channel.replace("__", "_"))) throw new Error(`invalid channel '${channel}'`);
      let set = handlers.get(channel);
      if (!set) {
        set = new Set();
        handlers.set(channel, set);
        if (!listener) await connectListener();
        else await listener.query(`LISTEN ${channel}`);
      }
      set.add(handler);
      return async () => {
        set.delete(handler);
        if (set.size === 0) {
          handlers.delete(channel);
          await listener?.query(`UNLISTEN ${channel}`).catch(() => undefined);
        }
      };
    },
    sqlChannel: scoped,
    async close() {
      closed = true;
      await listener?.end().catch(() => undefined);
      await pool.end();
    },
  };
}
