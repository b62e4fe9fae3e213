/**
 * `ph-tasks store copy`: the whole task store copied into a new one — the embedded store of a data
 * directory into PostgreSQL when one machine is no longer enough (or back, or from one server to
 * another): every task with its attempts, output and events, the schedules, hooks, webhooks and
 * their deliveries still owed, templates, pipelines, rate limits, budgets, spend and the audit log.
 *
 * - Read in one snapshot (REPEATABLE READ, read only): a PostgreSQL store may be copied while its
 *   workers run, and the copy is the store as it was at one instant. A data directory is held for
 *   the copy (data-dir-lock.ts): an agent running on it is named and the copy refused.
 * - Written in one transaction: a copy that fails leaves the new store as it was. Only into a new
 *   store (no tasks, schedules, ... — the rows of a new store's one-row tables are replaced), at the
 *   same schema version as the one copied (both are brought to this ph-tasks's first).
 * - Rows are copied as they are, triggers off (setTableTriggers: copied tasks queue no webhook
 *   twice), then counted on both sides; sequences set past the copied values. The new store's
 *   audit log gets one entry more: the copy itself (who ran it, from where).
 * Not copied: the workers of the old store (ph_workers: those are not the new store's) and the
 * schema's own bookkeeping. Tasks that were running are running in the copy too, under leases
 * nobody renews: the new store's workers take them back when the leases expire, as after a crash.
 * The reactor's documents stay in the data directory: an agent on PostgreSQL keeps its
 * TASK_DATA_DIR for them.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { lockDataDir, type DataDirLock } from "./data-dir-lock.js";
import type { Queryable } from "./db.js";
import { markStoreMoved } from "./moved-store.js";
import { insertAuditEntries } from "./sql/audit/insert-audit-entries.js";
import { advanceSequence } from "./sql/store-copy/advance-sequence.js";
import { countTablePages } from "./sql/store-copy/count-table-pages.js";
import { countTableRows } from "./sql/store-copy/count-table-rows.js";
import { deleteTableRows } from "./sql/store-copy/delete-table-rows.js";
import { insertTableRows } from "./sql/store-copy/insert-table-rows.js";
import { listStoreTables, type StoreTable } from "./sql/store-copy/list-store-tables.js";
import { selectStoreIdentity } from "./sql/store-copy/select-store-identity.js";
import { selectTableRows } from "./sql/store-copy/select-table-rows.js";
import { selectTableRowsAfter } from "./sql/store-copy/select-table-rows-after.js";
import { setTableTriggers } from "./sql/store-copy/set-table-triggers.js";
import { TaskStore } from "./task-store.js";

/** Where a store is: an agent's data directory (its embedded store in store/), or a PostgreSQL URL. */
export type StoreLocation = { kind: "dir"; dir: string } | { kind: "postgres"; url: string };

/** Tables that belong to one store and are not copied: its schema's bookkeeping, and the workers that worked on it. */
export const NOT_COPIED: ReadonlySet<string> = new Set(["ph_tasks_migrations", "ph_tasks_schema", "ph_workers"]);
/** One-row tables a new store is made with (migrations 027, 038): replaced by the copied store's rows. */
export const MADE_WITH_A_ROW: ReadonlySet<string> = new Set(["ph_finished_rollup", "ph_budget_state"]);

/** Heap pages (8 KB) read and written at once: about 2,000 events or 500 tasks. */
const PAGES = 64;
/** Rows of a table with bytes (kept conversations: up to 8 MB each, out of line, so many to a page) read and written at once. */
const ROWS_WITH_BYTES = 4;

export interface CopiedTable {
  table: string;
  rows: number;
}

export interface StoreCopyReport {
  from: string;
  to: string;
  schemaVersion: number;
  tasks: number;
  tables: CopiedTable[];
  /** The old store was marked moved (--move). */
  moved: boolean;
  ms: number;
}

export class StoreCopyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreCopyError";
  }
}

/** `value` as a store's location: a postgres:// URL, else a directory (relative to `cwd`). */
export function storeLocation(value: string, cwd = process.cwd()): StoreLocation {
  return /^postgres(ql)?:\/\//i.test(value) ? { kind: "postgres", url: value } : { kind: "dir", dir: path.resolve(cwd, value) };
}

/** How a location is named in messages: a URL without its password. */
export function describeLocation(location: StoreLocation): string {
  if (location.kind === "dir") return location.dir;
  try {
    const url = new URL(location.url);
    if (url.password) url.password = "***";
    return url.toString();
  } catch {
    return "the PostgreSQL URL given";
  }
}

interface OpenedStore {
  store: TaskStore;
  lock?: DataDirLock;
}

async function openLocation(location: StoreLocation, role: "from" | "to"): Promise<OpenedStore> {
  if (location.kind === "postgres") {
    try {
      return { store: await TaskStore.open({ databaseUrl: location.url }) };
    } catch (error) {
      // The server's own words (unreachable, no such database or schema), with which flag named it.
      throw new StoreCopyError(`--${role} ${describeLocation(location)}: the store cannot be opened: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const storeDir = path.join(location.dir, "store");
  if (role === "from" && !fs.existsSync(path.join(storeDir, "PG_VERSION"))) throw new StoreCopyError(`--from ${location.dir}: no task store there (an agent's TASK_DATA_DIR has one in store/)`);
  const lock = lockDataDir(location.dir, "ph-tasks store copy");
  try {
    return { store: await TaskStore.open({ dataDir: storeDir }), lock };
  } catch (error) {
    lock.release();
    throw error;
  }
}

async function closeStore(opened: OpenedStore | undefined): Promise<void> {
  if (!opened) return;
  await opened.store.close().catch(() => undefined);
  opened.lock?.release();
}

export interface StoreCopyOptions {
  /** Hears each table as it is done. */
  onTable?: (copied: CopiedTable) => void;
  /** The old store (a data directory's) marked moved once copied: no agent runs on it again (moved-store.ts). */
  move?: boolean;
}

/** Copies the store at `from` into the new store at `to` (see above). */
export async function copyStore(from: StoreLocation, to: StoreLocation, options: StoreCopyOptions = {}): Promise<StoreCopyReport> {
  const started = Date.now();
  const onTable = options.onTable ?? (() => undefined);
  if (describeLocation(from) === describeLocation(to)) throw new StoreCopyError(`--from and --to are the same store (${describeLocation(from)})`);
  if (options.move && from.kind !== "dir") throw new StoreCopyError(`--move: only an embedded store (a data directory) is marked moved; the workers of ${describeLocation(from)} are stopped by hand`);
  let source: OpenedStore | undefined;
  let target: OpenedStore | undefined;
  try {
    source = await openLocation(from, "from");
    target = await openLocation(to, "to");
    // The same store spelt two ways (localhost, 127.0.0.1): its copy into itself would wait on its own locks.
    if (from.kind === "postgres" && to.kind === "postgres" && (await selectStoreIdentity(source.store.db)) === (await selectStoreIdentity(target.store.db))) {
      throw new StoreCopyError(`--from and --to are the same store (${describeLocation(from)} and ${describeLocation(to)}: the same server, database and schema)`);
    }
    const [sourceVersion, targetVersion] = [source.store.schema.version, target.store.schema.version];
    if (sourceVersion !== targetVersion) throw new StoreCopyError(`the store copied is at schema version ${sourceVersion}, the new one at ${targetVersion}: copy with a ph-tasks that knows ${Math.max(sourceVersion, targetVersion)}`);
    const tables = inCopyOrder((await listStoreTables(source.store.db)).filter((t) => !NOT_COPIED.has(t.name)));
    const into = target.store.db;
    const copied = await source.store.db.transaction(async (src) => {
      await src.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
      return into.transaction(async (dst) => {
        const tablesCopied = await copyTables(src, dst, tables, onTable);
        // The new store's audit log says where it came from, who copied it and when.
        const tasks = tablesCopied.find((t) => t.table === "ph_tasks")?.rows ?? 0;
        await insertAuditEntries(dst, `${os.hostname()}:${process.pid}`, [{ at: new Date(), actor: whoRuns(), via: "cli", action: "ph-tasks store copy", outcome: "done", detail: `copied from ${describeLocation(from)}: ${tasks} tasks, schema version ${sourceVersion}` }]);
        return tablesCopied;
      });
    });
    // Marked while still held: no agent can have started on it since the copy read it.
    if (options.move && from.kind === "dir") markStoreMoved(from.dir, { to: describeLocation(to), at: new Date().toISOString(), by: whoRuns() });
    return { from: describeLocation(from), to: describeLocation(to), schemaVersion: sourceVersion, tasks: copied.find((t) => t.table === "ph_tasks")?.rows ?? 0, tables: copied, moved: options.move === true, ms: Date.now() - started };
  } finally {
    await closeStore(target);
    await closeStore(source);
  }
}

async function copyTables(src: Queryable, dst: Queryable, tables: readonly StoreTable[], onTable: (copied: CopiedTable) => void): Promise<CopiedTable[]> {
  const withTriggers = tables.filter((t) => t.hasTriggers);
  for (const table of withTriggers) await setTableTriggers(dst, table.name, false);
  await refuseNonEmpty(dst, tables);
  const copied: CopiedTable[] = [];
  for (const table of tables) {
    if (MADE_WITH_A_ROW.has(table.name)) await deleteTableRows(dst, table.name);
    const rows = await copyTable(src, dst, table);
    const [read, written] = await Promise.all([countTableRows(src, table.name), countTableRows(dst, table.name)]);
    if (read !== rows || written !== rows) throw new StoreCopyError(`${table.name}: ${rows} rows copied, but the store copied holds ${read} and the new one ${written}; nothing was written`);
    for (const column of table.sequenced) await advanceSequence(dst, table.name, column);
    copied.push({ table: table.name, rows });
    onTable({ table: table.name, rows });
  }
  for (const table of withTriggers) await setTableTriggers(dst, table.name, true);
  return copied;
}

async function copyTable(src: Queryable, dst: Queryable, table: StoreTable): Promise<number> {
  let total = 0;
  if (table.hasBytes) {
    for (let after = "(0,0)"; ; ) {
      const batch = await selectTableRowsAfter(src, table, after, ROWS_WITH_BYTES);
      if (batch.length === 0) return total;
      total += await insertTableRows(dst, table, batch.map((r) => r.row));
      after = batch[batch.length - 1]?.at ?? after;
    }
  }
  const pages = await countTablePages(src, table.name);
  for (let page = 0; page < pages; page += PAGES) {
    const rows = await selectTableRows(src, table, page, PAGES);
    if (rows.length > 0) total += await insertTableRows(dst, table, rows);
  }
  return total;
}

/** Only into a new store: one that holds anything (tasks, schedules, ...) is named with what it holds, and nothing is written. */
async function refuseNonEmpty(dst: Queryable, tables: readonly StoreTable[]): Promise<void> {
  const holding: string[] = [];
  for (const table of tables) {
    if (MADE_WITH_A_ROW.has(table.name)) continue;
    const rows = await countTableRows(dst, table.name);
    if (rows > 0) holding.push(`${table.name} ${rows}`);
  }
  if (holding.length > 0) throw new StoreCopyError(`the store copied into must be new, and this one holds rows (${holding.join(", ")}): give --to an empty database or schema, or a new data directory`);
}

/** The account running the copy, as the audit log names it. */
function whoRuns(): string {
  try {
    return os.userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? "?"}`;
  }
}

/** Tables whose foreign keys point at others after those (ph_tasks before its dependencies, rule results, conversations). */
export function inCopyOrder(tables: readonly StoreTable[]): StoreTable[] {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const ordered: StoreTable[] = [];
  const placed = new Set<string>();
  const place = (table: StoreTable, path: readonly string[]) => {
    if (placed.has(table.name) || path.includes(table.name)) return;
    for (const parent of table.parents) {
      const of = byName.get(parent);
      if (of) place(of, [...path, table.name]);
    }
    placed.add(table.name);
    ordered.push(table);
  };
  for (const table of tables) place(table, []);
  return ordered;
}
