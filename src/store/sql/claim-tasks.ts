import type { Db } from "../db.js";
import type { ClaimLimits, Finish, NewTaskEvent, TaskRow } from "../interfaces.js";

/** What a claim returns of a task: the fields a Task is made of, no run-time bookkeeping. */
export type ClaimedRow = Pick<TaskRow, "id" | "status" | "updated_at" | "result" | "error" | "type" | "title" | "instructions" | "params" | "priority" | "attempts" | "max_attempts" | "timeout_ms" | "idempotency_key" | "source" | "created_at">;

/** What recording a run's end returns: the fields it changed (the rest the worker holds already). */
export type FinishedRow = Pick<TaskRow, "id" | "status" | "updated_at" | "result" | "error">;

/** Advisory lock key that serialises claims across every worker sharing the database ("phtc"). */
const CLAIM_LOCK = 0x70687463;

/**
 * Records the ends of finished runs and claims up to `limits.count` claimable tasks for the worker,
 * in one round trip: the function ph_finish_and_claim (migrations 005, 006), which also stores the
 * worker's buffered event-log entries (`options.events`) in the same transaction. Claims go in rank order and
 * never exceed the per-document and per-drive limits counted across ALL workers.
 *
 * Why a lock: two workers claiming at the same instant would each count the running tasks of a
 * document before the other's claim commits, and both would start one. The claim therefore takes
 * a transaction-scoped advisory lock first: counting and claiming happen as one step for the
 * whole cluster. The finishes are written before the lock is taken, and the claim's statements
 * each take a fresh snapshot after it, so the claim sees every slot freed by then, this worker's
 * included. The lock is held for well under a millisecond per batch.
 *
 * Finishes are fenced by the worker id: a worker whose lease expired (and whose task another
 * worker took over) cannot overwrite the newer run's outcome. `notifyChannel`, when given, is told
 * that slots were freed (payload: the worker id), for the other workers waiting on them.
 *
 * Rows come back trimmed (parsing unused columns cost more than the SQL): claimed tasks in rank
 * order with the fields of a Task, finished ones with the fields the finish changed.
 */
export async function finishAndClaimTasks(
  db: Db,
  workerId: string,
  finishes: readonly Finish[],
  limits: ClaimLimits | undefined,
  options: { notifyChannel: string | undefined; events: readonly NewTaskEvent[]; asyncCommit: boolean },
): Promise<{ finished: FinishedRow[]; claimed: ClaimedRow[] }> {
  const claim = limits && limits.count > 0 && limits.types.length > 0 ? limits : undefined;
  if (!claim && finishes.length === 0 && options.events.length === 0) return { finished: [], claimed: [] };
  const { rows } = await db.query<ClaimedRow>("SELECT * FROM ph_finish_and_claim($1, $2, $3, $4::jsonb[], $5::jsonb[], $6::int[], $7, $8, $9, $10, $11, $12::jsonb, $13, $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::int[], $20)", [
    workerId,
    finishes.map((f) => f.id),
    finishes.map((f) => f.status),
    finishes.map((f) => (f.result === null ? null : JSON.stringify(f.result))),
    finishes.map((f) => (f.error === null ? null : JSON.stringify(f.error))),
    finishes.map((f) => Math.round(f.durationMs ?? 0)),
    options.notifyChannel ?? null,
    claim?.count ?? 0,
    claim?.maxPerDocument ?? 0,
    claim?.maxPerDrive ?? 0,
    claim?.leaseMs ?? 0,
    JSON.stringify(claim?.typeSlots ?? {}),
    CLAIM_LOCK,
    claim?.types ?? [],
    ...eventColumns(options.events),
    options.asyncCommit,
  ]);
  // A claimed row is running; a finished one has its final status.
  const claimed = rows.filter((r) => r.status === "running");
  const finished: FinishedRow[] = rows.filter((r) => r.status !== "running").map(({ id, status, updated_at, result, error }) => ({ id, status, updated_at, result, error }));
  return { finished, claimed };
}

/** Event-log entries as one array per column: unnest reads them without parsing JSON. */
export function eventColumns(events: readonly NewTaskEvent[]): [string[], string[], (string | null)[], string[], number[]] {
  return [events.map((e) => e.task_id), events.map((e) => e.kind), events.map((e) => e.stream), events.map((e) => e.data), events.map((e) => e.bytes)];
}
