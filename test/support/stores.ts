/**
 * The task stores the suite runs against: embedded PGlite always, and the PostgreSQL server at
 * TEST_DATABASE_URL (default 127.0.0.1:5432/test). When the server is unreachable the PostgreSQL
 * tests are reported as skipped with the reason printed — and with REQUIRE_TEST_SERVICES=1 (CI)
 * its absence is a failure, not a skip.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterEach } from "vitest";
import { TaskStore } from "../../src/store/task-store.js";

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const servicesRequired = process.env.REQUIRE_TEST_SERVICES === "1";

async function probePostgres(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export const postgresProblem = await probePostgres();
if (postgresProblem) {
  console.warn(`\n*** PostgreSQL at ${TEST_DATABASE_URL} is not reachable (${postgresProblem}): PostgreSQL tests are SKIPPED. Set TEST_DATABASE_URL to run them.${servicesRequired ? " REQUIRE_TEST_SERVICES=1: this is a failure." : ""}\n`);
}
export const postgresAvailable = postgresProblem === undefined;

export function uniqueSchema(prefix = "t"): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

export interface Backend {
  name: "pglite" | "postgres" | "postgres-async-commit";
  available: boolean;
  open(): Promise<{ store: TaskStore; schema?: string; cleanup: () => Promise<void> }>;
}

export const BACKENDS: Backend[] = [
  {
    name: "pglite",
    available: true,
    async open() {
      const store = await TaskStore.open({});
      return { store, cleanup: () => store.close() };
    },
  },
  postgresBackend("postgres", false),
  // TASK_STORE_ASYNC_COMMIT: claims and finishes commit without waiting for the disk.
  postgresBackend("postgres-async-commit", true),
];

function postgresBackend(name: "postgres" | "postgres-async-commit", asyncCommit: boolean): Backend {
  return {
    name,
    available: postgresAvailable,
    async open() {
      const schema = uniqueSchema();
      const store = await TaskStore.open({ databaseUrl: TEST_DATABASE_URL, schema, asyncCommit });
      return {
        store,
        schema,
        cleanup: async () => {
          await store.close();
          await dropSchema(schema);
        },
      };
    },
  };
}

/**
 * A backend's store, and a second worker's own connection to the same database (PostgreSQL; on
 * PGlite, which one process opens once, the same store).
 */
export async function openWithSecondConnection(backend: Backend): Promise<{ store: TaskStore; other: TaskStore; cleanup: () => Promise<void> }> {
  const opened = await backend.open();
  const other = opened.schema ? await TaskStore.open({ databaseUrl: TEST_DATABASE_URL, schema: opened.schema }) : opened.store;
  return {
    store: opened.store,
    other,
    cleanup: async () => {
      if (other !== opened.store) await other.close();
      await opened.cleanup();
    },
  };
}

/**
 * A store of `backend` for each test of the describe this is called in: the test calls the
 * returned function, and the store is closed (its schema dropped) after the test.
 */
export function storePerTest(backend: Backend): () => ReturnType<Backend["open"]> {
  let opened: Awaited<ReturnType<Backend["open"]>> | undefined;
  afterEach(async () => {
    await opened?.cleanup();
    opened = undefined;
  });
  return async () => (opened = await backend.open());
}
