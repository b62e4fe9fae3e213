/**
 * Versioned migrations, applied in order, each once, in a transaction. An advisory lock makes
 * several workers starting at once apply them exactly once.
 */
import { PLANNED_EACH_TIME, type Db } from "./db.js";
import * as m001 from "./migrations/001-initial.js";
import * as m002 from "./migrations/002-claim-function.js";
import * as m003 from "./migrations/003-claim-by-type.js";
import * as m004 from "./migrations/004-last-worker.js";
import * as m005 from "./migrations/005-finish-and-claim.js";
import * as m006 from "./migrations/006-events-in-claim.js";
import * as m007 from "./migrations/007-fewer-indexes.js";
import * as m008 from "./migrations/008-leaner-finish-and-claim.js";
import * as m009 from "./migrations/009-time-ordered-ids.js";
import * as m010 from "./migrations/010-claim-by-row-address.js";
import * as m011 from "./migrations/011-schedules.js";
import * as m012 from "./migrations/012-hooks.js";
import * as m013 from "./migrations/013-task-dependencies.js";
import * as m014 from "./migrations/014-templates.js";
import * as m015 from "./migrations/015-webhooks.js";
import * as m016 from "./migrations/016-webhook-start-and-retry.js";
import * as m017 from "./migrations/017-queue-pauses.js";
import * as m018 from "./migrations/018-rate-limits.js";
import * as m019 from "./migrations/019-webhook-holds.js";
import * as m020 from "./migrations/020-run-at.js";
import * as m021 from "./migrations/021-type-concurrency.js";
import * as m022 from "./migrations/022-start-by.js";
import * as m023 from "./migrations/023-finished-index.js";
import * as m024 from "./migrations/024-workers.js";
import * as m025 from "./migrations/025-task-tags.js";
import * as m026 from "./migrations/026-ended-status-indexes.js";
import * as m027 from "./migrations/027-finished-minutes.js";
import * as m028 from "./migrations/028-title-search.js";
import * as m029 from "./migrations/029-schema-compatibility.js";
import * as m030 from "./migrations/030-signing.js";
import * as m031 from "./migrations/031-pipelines.js";
import * as m032 from "./migrations/032-pipeline-events.js";
import * as m033 from "./migrations/033-rule-results.js";
import * as m034 from "./migrations/034-write-back-leases.js";
import * as m035 from "./migrations/035-live-tagged-index.js";
import * as m036 from "./migrations/036-approvals.js";
import * as m037 from "./migrations/037-audit-log.js";
import * as m038 from "./migrations/038-run-costs.js";
import * as m039 from "./migrations/039-conversations.js";
import * as m040 from "./migrations/040-drive-spend.js";
import * as m041 from "./migrations/041-drive-budget-state.js";
import * as m042 from "./migrations/042-drive-budgets.js";
import * as m043 from "./migrations/043-budget-warnings.js";
import * as m044 from "./migrations/044-daily-budget.js";
import * as m045 from "./migrations/045-person-spend.js";
import * as m046 from "./migrations/046-tasks-by-person.js";
import * as m047 from "./migrations/047-person-budgets.js";

/**
 * A migration is SQL split on ";" at line ends, or — where a function body holds semicolons of its
 * own — an explicit list of statements. One after which agents that do not know it would do wrong
 * (write what the new schema no longer reads, miss a table it needs filled) sets
 * `breaksOlderAgents`: those then refuse to start, and running ones drain (029).
 */
export interface Migration {
  version: number;
  name: string;
  sql?: string;
  statements?: readonly string[];
  breaksOlderAgents?: boolean;
}

const MIGRATIONS: readonly Migration[] = [
  { version: 1, ...m001 },
  { version: 2, name: m002.name, statements: [m002.sql] },
  { version: 3, ...m003 },
  { version: 4, ...m004 },
  { version: 5, ...m005 },
  { version: 6, ...m006 },
  { version: 7, ...m007 },
  { version: 8, ...m008 },
  { version: 9, ...m009 },
  { version: 10, ...m010 },
  { version: 11, ...m011 },
  { version: 12, ...m012 },
  { version: 13, name: m013.name, statements: m013.statements },
  { version: 14, ...m014 },
  { version: 15, name: m015.name, statements: m015.statements },
  { version: 16, name: m016.name, statements: m016.statements },
  { version: 17, ...m017 },
  { version: 18, name: m018.name, statements: m018.statements },
  { version: 19, name: m019.name, statements: m019.statements },
  { version: 20, name: m020.name, statements: m020.statements },
  { version: 21, name: m021.name, statements: m021.statements },
  { version: 22, name: m022.name, statements: m022.statements },
  { version: 23, name: m023.name, statements: m023.statements },
  { version: 24, name: m024.name, statements: m024.statements },
  { version: 25, name: m025.name, statements: m025.statements },
  { version: 26, name: m026.name, statements: m026.statements },
  { version: 27, name: m027.name, statements: m027.statements },
  { version: 28, name: m028.name, statements: m028.statements },
  { version: 29, name: m029.name, statements: m029.statements },
  { version: 30, name: m030.name, statements: m030.statements },
  { version: 31, name: m031.name, statements: m031.statements },
  { version: 32, name: m032.name, statements: m032.statements },
  { version: 33, name: m033.name, statements: m033.statements },
  { version: 34, name: m034.name, statements: m034.statements },
  { version: 35, name: m035.name, statements: m035.statements },
  { version: 36, name: m036.name, statements: m036.statements },
  { version: 37, name: m037.name, statements: m037.statements },
  { version: 38, name: m038.name, statements: m038.statements },
  { version: 39, name: m039.name, statements: m039.statements },
  { version: 40, name: m040.name, statements: m040.statements },
  { version: 41, name: m041.name, statements: m041.statements },
  { version: 42, name: m042.name, statements: m042.statements },
  { version: 43, name: m043.name, statements: m043.statements },
  { version: 44, name: m044.name, statements: m044.statements },
  { version: 45, name: m045.name, statements: m045.statements },
  { version: 46, name: m046.name, statements: m046.statements },
  { version: 47, name: m047.name, statements: m047.statements },
];

/** The schema version this code migrates to. */
export const LATEST_MIGRATION = MIGRATIONS.reduce((latest, m) => Math.max(latest, m.version), 0);

/** Arbitrary constant: the advisory lock key of migrations ("phtm"). */
const MIGRATION_LOCK = 0x7068746d;

export function migrate(db: Db): Promise<number[]> {
  return applyMigrations(db, MIGRATIONS);
}

/** Applies those of `migrations` the store has not had yet; exported for the tests' made-up ones. */
export async function applyMigrations(db: Db, migrations: readonly Migration[]): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await tx.query(`CREATE TABLE IF NOT EXISTS ph_tasks_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await tx.query<{ version: number }>("SELECT version FROM ph_tasks_migrations")).rows.map((r) => r.version));
    const applied: number[] = [];
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      const statements = migration.statements ?? (migration.sql ?? "").split(/;\s*\n/);
      for (const statement of statements.map((s) => s.trim()).filter(Boolean)) {
        // Sent unnamed: each runs once, and a name would use up one of the process's capped few
        // (postgres-db.ts) that the statements run again and again need.
        await tx.query(`${PLANNED_EACH_TIME}\n${statement}`);
      }
      await tx.query("INSERT INTO ph_tasks_migrations (version, name) VALUES ($1, $2)", [migration.version, migration.name]);
      if (migration.breaksOlderAgents) await tx.query("UPDATE ph_tasks_schema SET oldest_agent_schema = greatest(oldest_agent_schema, $1)", [migration.version]);
      applied.push(migration.version);
    }
    return applied;
  });
}
