import type { Queryable } from "../db.js";
import type { TaskRow } from "../interfaces.js";
import { ASKED_UNDECIDED } from "../migrations/036-approvals.js";

/**
 * The approvals that wait for a person's decision now — asked for (take-approval-asks.ts), none
 * decided — the longest waiting first, through their own index (migration 036): ASKED_UNDECIDED
 * holds its type, status and asked conditions, which PostgreSQL needs to use that partial index.
 */
export async function selectAskedApprovals(db: Queryable, limit: number): Promise<TaskRow[]> {
  const { rows } = await db.query<TaskRow>(
    `SELECT t.* FROM ph_tasks t
     WHERE ${ASKED_UNDECIDED}
     ORDER BY t.params->>'asked', t.id LIMIT $1`,
    [limit],
  );
  return rows;
}
