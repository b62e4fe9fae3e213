/**
 * The task store: one interface over the SQL files, for PGlite and PostgreSQL alike. It converts
 * rows to tasks; it decides nothing (the manager does).
 */
import type { Task, TaskError, TaskSource } from "../tasks/types.js";
import { splitTaskParams } from "../tasks/types.js";
import { CHANNELS, type Db, type Queryable } from "./db.js";
import type { ClaimLimits, Finish, ListFilter, NewTaskEvent, NewTaskRow, TaskEventRow, TaskRow } from "./interfaces.js";
import { LATEST_MIGRATION, migrate } from "./migrate.js";
import { CREATE_TITLE_INDEX } from "./migrations/028-title-search.js";
import { APPROVAL_TYPE } from "./migrations/036-approvals.js";
import { openPgliteDb } from "./pglite-db.js";
import { openPostgresDb } from "./postgres-db.js";
import { finishAndClaimTasks, type ClaimedRow, type FinishedRow } from "./sql/claim-tasks.js";
import { countActiveTasks } from "./sql/count-active-tasks.js";
import { decideApproval, type Decision } from "./sql/decide-approval.js";
import { deleteExpiredTasks } from "./sql/delete-expired-tasks.js";
import { takeApprovalAsks } from "./sql/take-approval-asks.js";
import { selectAskedApprovals } from "./sql/select-asked-approvals.js";
import { deleteEmptiedPipelines } from "./sql/pipelines/delete-emptied-pipelines.js";
import { insertEvents } from "./sql/insert-events.js";
import { insertRejectedTask } from "./sql/insert-rejected-task.js";
import { insertTasks } from "./sql/insert-tasks.js";
import { listEvents } from "./sql/list-events.js";
import { listStatusEntries } from "./sql/list-status-entries.js";
import { listTasks } from "./sql/list-tasks.js";
import { nextRunAt } from "./sql/next-run-at.js";
import { recoverExpiredLeases } from "./sql/recover-expired-leases.js";
import { releaseTasks, type ReleaseReason } from "./sql/release-tasks.js";
import { renewLeases } from "./sql/renew-leases.js";
import { requestCancel } from "./sql/request-cancel.js";
import { retryTask } from "./sql/retry-task.js";
import { reprioritizeTask } from "./sql/reprioritize-task.js";
import { scheduleRetry } from "./sql/schedule-retry.js";
import { selectTask } from "./sql/select-task.js";
import { selectTasksByIdempotencyKeys } from "./sql/select-tasks-by-idempotency-keys.js";
import { selectExistingTaskIds } from "./sql/select-existing-task-ids.js";
import { trimEvents } from "./sql/trim-events.js";
import { registerDependencies } from "./sql/register-dependencies.js";
import { selectWaitingFacts, type WaitingFacts } from "./sql/select-waiting-facts.js";
import { selectDoomedDependents, type DoomedDependent } from "./sql/select-doomed-dependents.js";
import { rollUpFinished, ROLLUP_REACH_MINUTES } from "./sql/roll-up-finished.js";
import { selectRollupMark } from "./sql/select-rollup-mark.js";
import { RUN_BLOCK_MINUTES } from "./run-time-buckets.js";
import { selectFinishedMinutes } from "./sql/select-finished-minutes.js";
import { selectRunTimes } from "./sql/select-run-times.js";
import { selectRecentFailures } from "./sql/select-recent-failures.js";
import { summarizeEnds, type EndedSummary } from "./ended-summary.js";
import { selectFailureReasons, type FailureReasonRow } from "./sql/select-failure-reasons.js";
import { selectExpiredTasks } from "./sql/select-expired-tasks.js";
import { ValidationError } from "../validation.js";
import { selectSchemaState } from "./sql/select-schema-state.js";
import { IncompatibleSchemaError, type SchemaState } from "./schema-compatibility.js";

function toNewRow(task: Task, agingMs: number): NewTaskRow {
  const source: TaskSource | null = task.source ?? null;
  return {
    id: task.id,
    type: task.type,
    title: task.title,
    instructions: task.instructions,
    params: splitTaskParams(task),
    priority: task.priority,
    max_attempts: task.maxAttempts,
    timeout_ms: task.timeoutMs,
    idempotency_key: task.idempotencyKey ?? null,
    drive_id: source?.driveId ?? null,
    document_id: source?.documentId ?? null,
    source,
    aging_ms: agingMs,
    // An approval waits for its decision as for a dependency (migration 036).
    waiting: dependenciesOf(task).length > 0 || task.type === APPROVAL_TYPE,
    run_at: typeof task.runAt === "string" ? task.runAt : null,
  };
}

function dependenciesOf(task: Task): string[] {
  return Array.isArray(task.dependsOn) ? task.dependsOn.filter((id): id is string => typeof id === "string") : [];
}

export function rowToTask(row: ClaimedRow): Task {
  const task: Task = {
    ...row.params,
    id: row.id,
    type: row.type,
    title: row.title,
    instructions: row.instructions,
    status: row.status,
    priority: row.priority,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    timeoutMs: row.timeout_ms,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.idempotency_key !== null) task.idempotencyKey = row.idempotency_key;
  if (row.source !== null) task.source = row.source;
  if (row.result !== null) task.result = row.result;
  if (row.error !== null) task.error = row.error;
  return task;
}

/** The task as it is once its run's end is recorded (`row`: what the finish changed). */
export function finishedTask(running: Task, row: FinishedRow): Task {
  const { result: _result, error: _error, ...rest } = running;
  const task: Task = { ...rest, status: row.status, updatedAt: row.updated_at };
  if (row.result !== null) task.result = row.result;
  if (row.error !== null) task.error = row.error;
  return task;
}

/** Run-time details a task object does not carry (who runs it, when it started and ended). */
export interface TaskRuntime {
  startedAt: Date | null;
  finishedAt: Date | null;
  runAt: Date;
  lockedBy: string | null;
  /** The worker running it now, or the last one that ran it. */
  workerId: string | null;
  cancelRequested: boolean;
}

export function rowRuntime(row: TaskRow): TaskRuntime {
  return { startedAt: row.started_at, finishedAt: row.finished_at, runAt: row.run_at, lockedBy: row.locked_by, workerId: row.locked_by ?? row.last_worker ?? null, cancelRequested: row.cancel_requested };
}

/** Writes what belongs with tasks being inserted, in their transaction; throwing stores nothing. */
export type InsertWithin = (tx: Queryable, inserted: readonly TaskRow[]) => Promise<void>;

export interface StoreOptions {
  /** postgres://... for a shared server; absent for embedded PGlite. */
  databaseUrl?: string;
  /** PGlite data directory; absent = in memory. */
  dataDir?: string;
  /** PostgreSQL schema (default public). */
  schema?: string;
  onError?: (error: Error) => void;
  /**
   * Claims and finishes commit without waiting for the WAL flush (TASK_STORE_ASYNC_COMMIT).
   * A crash of the database's machine may then forget the last fraction of a second of them:
   * the tasks run again (at least once), nothing enqueued is lost.
   */
  asyncCommit?: boolean;
}

export class TaskStore {
  private constructor(
    readonly db: Db,
    private readonly asyncCommit: boolean,
    /** The schema as this store was opened: newer than this code where a newer agent migrated it. */
    readonly schema: SchemaState,
  ) {}

  static async open(options: StoreOptions): Promise<TaskStore> {
    const db = options.databaseUrl
      ? await openPostgresDb({ url: options.databaseUrl, ...(options.schema ? { schema: options.schema } : {}), ...(options.onError ? { onError: options.onError } : {}) })
      : await openPgliteDb(options.dataDir);
    await migrate(db);
    // pg_trgm installed on the server since the migration (ph-tasks doctor tells how): the title
    // search's index now. (Another worker starting at once may make it first; without pg_trgm this
    // does nothing. PGlite always has it from the migration.)
    if (db.kind === "postgres") await db.query(CREATE_TITLE_INDEX).catch(() => undefined);
    const state = await selectSchemaState(db);
    const schema = { version: state.version ?? 0, oldestAgentSchema: state.oldestAgentSchema ?? 0 };
    if (schema.oldestAgentSchema > LATEST_MIGRATION) {
      await db.close();
      throw new IncompatibleSchemaError(schema);
    }
    return new TaskStore(db, options.asyncCommit ?? false, schema);
  }

  get kind(): Db["kind"] {
    return this.db.kind;
  }

  /** Inserts tasks; for each, returns the stored task and whether it was new (idempotency). */
  async insert(tasks: readonly Task[], agingMs: number, within?: InsertWithin): Promise<{ task: Task; created: boolean }[]> {
    const rows = tasks.map((task) => toNewRow(task, agingMs));
    const inserted = within || rows.some((row) => row.waiting) ? await this.insertInTransaction(tasks, rows, within) : await insertTasks(this.db, rows);
    const byId = new Map(inserted.map((row) => [row.id, row]));
    const missingKeys = tasks.filter((t) => !byId.has(t.id) && t.idempotencyKey).map((t) => t.idempotencyKey as string);
    const existing = missingKeys.length > 0 ? await selectTasksByIdempotencyKeys(this.db, missingKeys) : [];
    const byKey = new Map(existing.map((row) => [row.idempotency_key, row]));
    if (inserted.length > 0) await this.db.notify(CHANNELS.wakeup, "");
    return tasks.map((task) => {
      const row = byId.get(task.id);
      if (row) return { task: rowToTask(row), created: true };
      const other = byKey.get(task.idempotencyKey ?? "");
      if (!other) throw new Error(`task ${task.id} was neither inserted nor found by its idempotency key`);
      return { task: rowToTask(other), created: false };
    });
  }

  /**
   * Inserts tasks some of which have dependencies, and links those, in one transaction: a
   * dependency that names no task refuses the whole insert (ValidationError), nothing is stored.
   * `within` writes what belongs with the tasks (a pipeline's row) in the same transaction.
   */
  private insertInTransaction(tasks: readonly Task[], rows: readonly NewTaskRow[], within: InsertWithin | undefined): Promise<TaskRow[]> {
    return this.db.transaction(async (tx) => {
      const inserted = await insertTasks(tx, rows);
      const ids = new Set(inserted.map((row) => row.id));
      const links = tasks.filter((task) => ids.has(task.id)).flatMap((task) => dependenciesOf(task).map((dependsOn) => ({ task_id: task.id, depends_on: dependsOn })));
      const { missing, released } = links.length > 0 ? await registerDependencies(tx, links) : { missing: [], released: [] };
      if (missing.length > 0) {
        throw new ValidationError("task", missing.map((id) => ({ field: "dependsOn", message: `names no task: '${id}'`, value: JSON.stringify(id) })));
      }
      await within?.(tx, inserted);
      const now = new Set(released);
      // A task whose dependencies had all completed was released at once (run_at = now()).
      return inserted.map((row) => (now.has(row.id) ? { ...row, run_at: new Date() } : row));
    });
  }

  /** Stores a refused task as cancelled with its reason; undefined if its key was already used. */
  async insertRejected(task: Task, error: TaskError): Promise<Task | undefined> {
    const row = await insertRejectedTask(this.db, toNewRow(task, 0), error);
    return row ? rowToTask(row) : undefined;
  }

  /**
   * Stores buffered event-log entries, records finished runs, then claims for the freed and free
   * slots (no claim without limits), in one round trip. Other workers are woken when slots were freed.
   */
  finishAndClaim(
    workerId: string,
    finishes: readonly Finish[],
    limits: ClaimLimits | undefined,
    events: readonly NewTaskEvent[] = [],
  ): Promise<{ finished: FinishedRow[]; claimed: ClaimedRow[] }> {
    return finishAndClaimTasks(this.db, workerId, finishes, limits, { notifyChannel: this.db.sqlChannel(CHANNELS.wakeup), events, asyncCommit: this.asyncCommit });
  }

  scheduleRetry(args: Parameters<typeof scheduleRetry>[1]): Promise<TaskRow | undefined> {
    return scheduleRetry(this.db, args);
  }

  release(workerId: string, ids: readonly string[], reason?: ReleaseReason, afterMs?: number): Promise<string[]> {
    return ids.length === 0 ? Promise.resolve([]) : releaseTasks(this.db, workerId, ids, reason, afterMs);
  }

  renewLeases(workerId: string, ids: readonly string[], leaseMs: number): Promise<{ id: string; cancel_requested: boolean }[]> {
    return ids.length === 0 ? Promise.resolve([]) : renewLeases(this.db, workerId, ids, leaseMs);
  }

  recoverExpiredLeases(): Promise<TaskRow[]> {
    return recoverExpiredLeases(this.db);
  }

  requestCancel(id: string, reason: string, code?: string): Promise<TaskRow | undefined> {
    return requestCancel(this.db, id, reason, code);
  }

  retry(id: string): Promise<TaskRow | undefined> {
    return retryTask(this.db, id);
  }

  reprioritize(id: string, priority: number, agingMs: number): Promise<TaskRow | undefined> {
    return reprioritizeTask(this.db, id, priority, agingMs);
  }

  get(id: string): Promise<TaskRow | undefined> {
    return selectTask(this.db, id);
  }

  /** What keeps a pending task waiting (undefined: it is not pending). */
  /** Waiting tasks to cancel because a dependency failed (onDependencyFailure "cancel"); `of`: only those depending on these. */
  doomedDependents(of: readonly string[] | undefined, limit: number): Promise<DoomedDependent[]> {
    return selectDoomedDependents(this.db, of, limit);
  }

  /** The approvals waiting for a person's decision now, the longest waiting first. */
  askedApprovals(limit: number): Promise<TaskRow[]> {
    return selectAskedApprovals(this.db, limit);
  }

  /** Approvals that now wait for a decision alone, marked asked (once, across workers). */
  takeApprovalAsks(limit: number): Promise<TaskRow[]> {
    return takeApprovalAsks(this.db, limit);
  }

  /** An approval's decision, recorded and released to run; undefined when it is not one awaiting a decision. */
  decideApproval(id: string, decision: Decision): Promise<TaskRow | undefined> {
    return decideApproval(this.db, id, decision);
  }

  waitingFacts(id: string): Promise<WaitingFacts | undefined> {
    return selectWaitingFacts(this.db, id);
  }

  /** Which of `ids` name a task still stored. */
  existingIds(ids: readonly string[]): Promise<string[]> {
    return selectExistingTaskIds(this.db, ids);
  }

  async getByIdempotencyKey(key: string): Promise<TaskRow | undefined> {
    return (await selectTasksByIdempotencyKeys(this.db, [key]))[0];
  }

  list(filter: ListFilter): Promise<{ rows: TaskRow[]; total: number; totalCapped: boolean }> {
    return listTasks(this.db, filter);
  }

  /** Tasks waiting and running now, per type (all workers). */
  countActive(): ReturnType<typeof countActiveTasks> {
    return countActiveTasks(this.db);
  }

  /**
   * What /api/stats shows: the tasks waiting and running now, and those that ended in the last
   * `minutes` (whole minutes, and the current one) per minute and outcome, per type with their run
   * times, and why the failed ones failed. Every read goes through an index or the per-minute
   * rollup (migration 027), which this brings up to date first, so its cost follows the queue and
   * the seconds since the last rollup, not the hour's throughput or the history TASK_RESULT_TTL keeps.
   */
  async overview(minutes: number): Promise<{ active: Awaited<ReturnType<typeof countActiveTasks>>; failures: FailureReasonRow[] } & EndedSummary> {
    if (minutes + RUN_BLOCK_MINUTES > ROLLUP_REACH_MINUTES) throw new RangeError(`overview: minutes is ${minutes}; the rollup reaches back ${ROLLUP_REACH_MINUTES - RUN_BLOCK_MINUTES}`);
    await this.rollUpEnds();
    // The mark and the rows it splits, in one snapshot: no end counted twice or missed.
    const ended = await this.db.transaction(async (tx) => {
      await tx.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
      const { through } = await selectRollupMark(tx);
      const summary = summarizeEnds(await selectFinishedMinutes(tx, minutes, through), await selectRunTimes(tx, minutes, through));
      return { ...summary, failures: await selectRecentFailures(tx, minutes, through, 10) };
    });
    return { active: await countActiveTasks(this.db), ...ended };
  }

  /**
   * Rolls up the tasks that ended since the last rollup, when it is due (at most every few
   * seconds, once across workers); whether this call did it. Done by each stats read, and now and
   * then by every worker's upkeep.
   */
  async rollUpEnds(): Promise<boolean> {
    const mark = await selectRollupMark(this.db);
    return mark.due && (await rollUpFinished(this.db, mark.through, mark.upTo));
  }

  /** Why tasks failed for good since `since` (per type and error code, most frequent first). */
  failureReasons(since: Date, type: string | undefined, limit: number): Promise<FailureReasonRow[]> {
    return selectFailureReasons(this.db, since, type, limit);
  }

  /** Pending tasks whose startBy has passed (to cancel as expired). */
  expired(limit: number): Promise<{ id: string; start_by: string }[]> {
    return selectExpiredTasks(this.db, limit);
  }

  nextRunAt(): Promise<Date | undefined> {
    return nextRunAt(this.db);
  }

  appendEvents(events: readonly NewTaskEvent[]): Promise<void> {
    return insertEvents(this.db, events);
  }

  listEvents(taskId: string, afterSeq: number, limit = 1000): Promise<TaskEventRow[]> {
    return listEvents(this.db, taskId, afterSeq, limit);
  }

  /** A task's status entries only (its attempts' starts and ends), oldest first. */
  statusEntries(taskId: string, limit = 1000): Promise<TaskEventRow[]> {
    return listStatusEntries(this.db, taskId, limit);
  }

  trimEvents(taskId: string, maxBytes: number): Promise<number> {
    return trimEvents(this.db, taskId, maxBytes);
  }

  /** Removes finished tasks past `ttlMs` (failed ones past `failedTtlMs`); returns how many. */
  /** Removes the tasks past their retention, then the pipelines left without tasks (migration 031). */
  async deleteExpired(ttlMs: number, failedTtlMs = ttlMs): Promise<number> {
    const removed = await deleteExpiredTasks(this.db, ttlMs, failedTtlMs);
    if (removed > 0) await deleteEmptiedPipelines(this.db, Math.min(ttlMs, failedTtlMs));
    return removed;
  }

  /**
   * Reclaims the dead row versions every claim and finish leaves behind. PGlite has no autovacuum;
   * on PostgreSQL autovacuum comes at most once a minute (and may be off), while a busy queue leaves
   * thousands of dead entries a second at the head of the claim index and in the running-task
   * indexes, which every claim then walks (measured: 2,300 → 1,000 tasks/s over 20,000 tasks).
   * SKIP_LOCKED: a vacuum another worker is running already does the job.
   */
  async vacuum(options: { analyze?: boolean } = {}): Promise<void> {
    // ANALYZE only when asked (the periodic cleanup): the claim and finish plans do not depend on
    // statistics, and sampling the table cost 270 ms on PGlite with 50,000 finished tasks kept.
    const list = [...(this.db.kind === "postgres" ? ["SKIP_LOCKED"] : []), ...(options.analyze ? ["ANALYZE"] : [])];
    const prefix = list.length > 0 ? `VACUUM (${list.join(", ")}) ` : "VACUUM ";
    // One statement per call: VACUUM refuses to run inside the implicit transaction of a batch.
    await this.db.exec(`${prefix}ph_tasks`);
    await this.db.exec(`${prefix}ph_task_events`);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
