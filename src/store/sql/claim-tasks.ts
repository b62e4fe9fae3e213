import type { Db } from "../db.js";
import type { ClaimLimits, TaskRow } from "../interfaces.js";

/** Advisory lock key that serialises claims across every worker sharing the database ("phtc"). */
const CLAIM_LOCK = 0x70687463;

/**
 * Claims up to `count` claimable tasks for a worker, in rank order, never exceeding the
 * per-document and per-drive limits counted across ALL workers.
 *
 * Why a lock: two workers claiming at the same instant would each count the running tasks of a
 * document before the other's claim commits, and both would start one. The claim therefore takes
 * a transaction-scoped advisory lock first: counting and claiming happen as one step for the
 * whole cluster. The statement itself is the function ph_claim_tasks (migrations 002, 003): one round
 * trip and a cached plan, so the lock is held for about a millisecond per batch of tasks.
 * FOR UPDATE SKIP LOCKED inside keeps claims from waiting on rows a cancel is touching, and
 * saturated documents and drives are filtered out before the scan window is cut, so a long queue
 * on one document cannot hide other documents' tasks.
 */
export async function claimTasks(db: Db, limits: ClaimLimits): Promise<TaskRow[]> {
  if (limits.count <= 0 || limits.types.length === 0) return [];
  const { rows } = await db.query<TaskRow>("SELECT * FROM ph_claim_tasks($1, $2, $3, $4, $5, $6::jsonb, $7, $8::text[])", [
    limits.workerId,
    limits.count,
    limits.maxPerDocument,
    limits.maxPerDrive,
    limits.leaseMs,
    JSON.stringify(limits.typeSlots),
    CLAIM_LOCK,
    limits.types,
  ]);
  return rows.sort((a, b) => a.rank_at.getTime() - b.rank_at.getTime());
}
