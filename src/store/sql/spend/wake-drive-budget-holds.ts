import type { Queryable } from "../../db.js";

/**
 * Tasks waiting for their drive's daily budget (released with the reason "drive budget spent" and
 * a run_at at which the drive has room again, drive-budget.ts) made claimable now. A worker starts
 * with the budgets its settings give — raised, named anew, or gone — and its claim looks at each
 * such task's drive again: one with room runs, one still spent goes back until then (without an
 * attempt). Without this a raised budget would hold them up to a day for nothing. Reads the newest
 * status entry of the pending tasks with a later run_at only (few: those and tasks for later).
 * With `driveId`, only the tasks that drive's writers asked for (its budget was just set or removed).
 */
export async function wakeDriveBudgetHolds(db: Queryable, driveId?: string): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `UPDATE ph_tasks t SET run_at = now(), updated_at = now()
     WHERE t.status = 'pending' AND t.run_at > now() AND ($1::text IS NULL OR t.source ->> 'driveId' = $1::text)
       AND (SELECT e.data FROM ph_task_events e WHERE e.task_id = t.id AND e.kind = 'status' ORDER BY e.seq DESC LIMIT 1)::json ->> 'reason' = 'drive budget spent'
     RETURNING t.id`,
    [driveId ?? null],
  );
  return rows.map((r) => r.id);
}
