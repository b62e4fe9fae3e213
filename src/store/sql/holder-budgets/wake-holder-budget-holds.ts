import type { Queryable } from "../../db.js";
import { HOLDER_TABLES, type Holder } from "./budget-holder-tables.js";

/**
 * Tasks waiting for a drive's or a person's budget (released with its reason — "drive budget
 * spent", "person budget spent" — and a run_at at which the holder has room again,
 * holder-budget.ts) made claimable now. A worker starts with the budgets its settings give —
 * raised, named anew, or gone — and its claim looks at each such task's holders again: one with
 * room runs, one still spent goes back until then (without an attempt). Without this a raised
 * budget would hold them up to a day for nothing. Reads the newest status entry of the pending
 * tasks with a later run_at only (few: those and tasks for later), once for both kinds. With
 * `holder`, only that drive's or person's tasks (its budget was just set or removed).
 */
export async function wakeHolderBudgetHolds(db: Queryable, holder?: Holder): Promise<string[]> {
  const reasons = holder ? [HOLDER_TABLES[holder.kind].heldReason] : Object.values(HOLDER_TABLES).map((t) => t.heldReason);
  // The key's expression comes from the closed map; without a holder it is not read ($1 null).
  const key = HOLDER_TABLES[holder?.kind ?? "drive"].taskKey;
  const { rows } = await db.query<{ id: string }>(
    `UPDATE ph_tasks t SET run_at = now(), updated_at = now()
     WHERE t.status = 'pending' AND t.run_at > now() AND ($1::text IS NULL OR t.${key} = $1::text)
       AND (SELECT e.data FROM ph_task_events e WHERE e.task_id = t.id AND e.kind = 'status' ORDER BY e.seq DESC LIMIT 1)::json ->> 'reason' = ANY($2::text[])
     RETURNING t.id`,
    [holder?.id ?? null, reasons],
  );
  return rows.map((r) => r.id);
}
