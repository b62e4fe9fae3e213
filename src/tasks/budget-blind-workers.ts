/**
 * Workers that do not read the budgets set while the agents run: during a rolling upgrade, a
 * worker whose code predates the migration that stores them (042 for drives', 044 for the daily
 * budget, 047 for people's) holds its tasks to its settings alone. Setting a budget must not look like it holds
 * everywhere when it does not: the answer names those workers, and the CLI and the dashboard warn.
 */
import type { Queryable } from "../store/db.js";
import { selectWorkersBelowSchema } from "../store/sql/workers/select-workers-below-schema.js";

/** The migrations that store budgets set while the agents run. */
export const BUDGET_MIGRATIONS = { drives: 42, daily: 44, people: 47 } as const;
/** At most this many are named: a fleet that old says enough with a few. */
const NAMED = 20;

export interface BlindWorker {
  workerId: string;
  host: string;
  version: string;
  schemaVersion: number | null;
}

/** The live workers that do not read the budgets `which` stores (oldest code first would need more: by id). */
export async function workersBlindTo(db: Queryable, which: keyof typeof BUDGET_MIGRATIONS): Promise<BlindWorker[]> {
  const rows = await selectWorkersBelowSchema(db, BUDGET_MIGRATIONS[which], NAMED);
  return rows.map((row) => ({ workerId: row.worker_id, host: row.host, version: row.version, schemaVersion: row.schema_version }));
}

/** What each kind of budget is called in the warning. */
const BUDGETS_NAMED = { drives: "drive budgets set while the agents run", daily: "the daily budget set while the agents run", people: "budgets per person set while the agents run" } as const;

/** The warning people read (the CLI, the dashboard): which workers hold to their settings, and until when. */
export function describeBlindWorkers(workers: readonly BlindWorker[], which: keyof typeof BUDGET_MIGRATIONS): string {
  const one = workers.length === 1;
  const named = workers.map((w) => `${w.workerId} on ${w.host} (agent ${w.version})`).join(", ");
  return `${one ? "worker" : "workers"} ${named} ${one ? "does" : "do"} not read ${BUDGETS_NAMED[which]}: ${one ? "it holds" : "they hold"} to ${one ? "its" : "their"} settings until upgraded`;
}

/** What a budget's answer carries (GET, PUT, DELETE /api/budgets/...): the blind workers, and the warning; null when none. */
export interface BlindWarning {
  ignoredBy: BlindWorker[];
  warning: string | null;
}

export async function blindWarning(db: Queryable, which: keyof typeof BUDGET_MIGRATIONS): Promise<BlindWarning> {
  const ignoredBy = await workersBlindTo(db, which);
  return { ignoredBy, warning: ignoredBy.length === 0 ? null : describeBlindWorkers(ignoredBy, which) };
}
