/**
 * The one database surface the task store uses, implemented by embedded PGlite and by a
 * PostgreSQL server (node-postgres). The SQL is the same for both.
 */
export interface QueryResult<Row> {
  rows: Row[];
  affectedRows: number;
}

export interface Queryable {
  query: <Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]) => Promise<QueryResult<Row>>;
}

export interface Db extends Queryable {
  readonly kind: "pglite" | "postgres";
  /** Runs fn in one transaction on one connection; rolls back if it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /** Tells every process sharing the database (PostgreSQL NOTIFY) or this process (PGlite). */
  notify(channel: string, payload: string): Promise<void>;
  /**
   * Calls handler for each notification on channel; returns an unsubscribe function. After the
   * listening connection was lost and is back (PostgreSQL), every handler is called once with an
   * empty payload: what was announced meanwhile may have been missed.
   */
  listen(channel: string, handler: (payload: string) => void): Promise<() => Promise<void>>;
  /**
   * The name SQL must pg_notify on to reach listen(channel) in every process; undefined where
   * notifications never leave this process (PGlite), so SQL cannot send them.
   */
  sqlChannel(channel: string): string | undefined;
  close(): Promise<void>;
}

/**
 * A statement whose best plan depends on its parameters' values (a title search: a rare text is
 * found through the trigram index, a common one by reading the newest tasks) begins with this, and
 * the PostgreSQL store sends it unnamed, planned for each call's values. A named prepared statement
 * switches to one generic plan after five calls, which served a rare text by reading every task
 * (90–140 ms at 1,000,000 kept, against 2 ms planned for the value). PGlite plans every statement
 * for its values anyway.
 */
export const PLANNED_EACH_TIME = "/* planned each time */";

/** Channels the store uses; PostgreSQL identifiers, so lower-case. */
export const CHANNELS = {
  /** A task became claimable (enqueued, retried, a slot freed). */
  wakeup: "ph_tasks_wakeup",
  /** A running task was asked to stop; payload: its id. */
  cancel: "ph_tasks_cancel",
  /** The queue's pauses changed (pause-store.ts). */
  pauses: "ph_tasks_pauses",
  /** The rate limits per task type changed (rate-limit-store.ts). */
  rateLimits: "ph_tasks_rate_limits",
  /** A worker was asked to drain or to claim again (worker-store.ts); payload: its id. */
  workers: "ph_tasks_workers",
  /** A run's cost was recorded (spend-store.ts): workers with a daily budget read the spend again; payload: the recording worker's id. */
  spend: "ph_tasks_spend",
} as const;
