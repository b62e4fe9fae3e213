import type { Queryable } from "../../db.js";
import { HOLDER_TABLES, type HolderKind } from "./budget-holder-tables.js";

/**
 * Tasks waiting for a budget of `kind` (released with its reason — "drive budget spent", "person
 * budget spent" — and a run_at at which the holder has room again, holder-budget.ts) made claimable
 * now. A worker starts with the budgets its settings give — raised, named anew, or gone — and its
 * claim looks at each such task's holder again: one with room runs, one still spent goes back
 * until then (without an attempt). Without this a raised budget would hold them up to a day for
 * nothing. Reads the newest status entry of the pending tasks with a later run_at only (few: those
 * and tasks for later). With `id`, only that holder's tasks (its budget was just set or removed).
 */
export async function wakeHolderBudgetHolds(db: Queryable, kind: HolderKind, id?: string): Promise<string[]> {
  const { taskKey, heldReason } = HOLDER_TABLES[kind];
  const { rows } = await db.query<{ id: string }>(
    `UPDATE ph_tasks t SET run_at = now(), updated_at = now()
     WHERE t.status = 'pending' AND t.run_at > now() AND ($1::text IS NULL OR t.${taskKey} = $1::text)
       AND (SELECT e.data FROM ph_task_events e WHERE e.task_id = t.id AND e.kind = 'status' ORDER BY e.seq DESC LIMIT 1)::json ->> 'reason' = $2
     RETURNING t.id`,
    [id ?? null, heldReason],
  );
  return rows.map((r) => r.id);
}
