import type { TaskSource } from "../../tasks/types.js";
import type { Queryable } from "../db.js";
import { AWAITING_DECISION } from "../migrations/036-approvals.js";

/** What keeps a pending task waiting, as the store sees it (see waiting-reason.ts). */
export interface WaitingFacts {
  type: string;
  /** Who asked for it (the drive whose budget may hold it). */
  source: TaskSource | null;
  run_at: Date;
  /** Attempts made: a future run_at after one is a retry's backoff, before any the request's runAt. */
  attempts: number;
  /** An approval no one has decided yet (migration 036). */
  awaiting_decision: boolean;
  /** Its dependencies not completed yet. */
  unmet: string[];
  /** Tasks running now, all workers: of its document, of its drive (0 when it has none). */
  document_running: number;
  drive_running: number;
  /** Claimable tasks ranked before it (counted up to 10,000). */
  ahead: number;
}

/** The facts for one task; undefined when it is not pending. */
export async function selectWaitingFacts(db: Queryable, id: string): Promise<WaitingFacts | undefined> {
  const { rows } = await db.query<WaitingFacts>(
    `SELECT t.type, t.source, t.run_at, t.attempts, ${AWAITING_DECISION} AS awaiting_decision,
            ARRAY(SELECT d.depends_on FROM ph_task_dependencies d JOIN ph_tasks dt ON dt.id = d.depends_on
                  WHERE d.task_id = t.id AND dt.status <> 'completed' ORDER BY d.depends_on) AS unmet,
            (SELECT count(*)::int FROM ph_tasks r WHERE r.status = 'running' AND r.document_id = t.document_id) AS document_running,
            (SELECT count(*)::int FROM ph_tasks r WHERE r.status = 'running' AND r.drive_id = t.drive_id) AS drive_running,
            (SELECT count(*)::int FROM (SELECT 1 FROM ph_tasks a WHERE a.status = 'pending' AND a.run_at <= now() AND (a.rank_at, a.id) < (t.rank_at, t.id) LIMIT 10000) x) AS ahead
     FROM ph_tasks t WHERE t.id = $1 AND t.status = 'pending'`,
    [id],
  );
  return rows[0];
}
