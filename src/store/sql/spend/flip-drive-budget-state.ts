import type { Queryable } from "../../db.js";
import { BUDGET_DELIVERIES_QUEUED } from "./flip-budget-state.js";

/** The webhook events of a drive's daily budget: its writers have spent it, then it has room again. */
export const DRIVE_BUDGET_EVENTS = ["budget.drive_spent", "budget.drive_available", "budget.drive_nearly_spent"] as const;
export type DriveBudgetEvent = (typeof DRIVE_BUDGET_EVENTS)[number];

/**
 * Records that `driveId`'s budget is spent (a row) or has room again (none) — only if it was not
 * already so — and in the same statement queues one delivery of the change to each enabled
 * webhook that asks for it. Of several workers seeing the same change, one flips it.
 */
export async function flipDriveBudgetState(db: Queryable, driveId: string, spent: boolean, payload: Record<string, unknown>): Promise<{ flipped: boolean; deliveries: number }> {
  const event: DriveBudgetEvent = spent ? "budget.drive_spent" : "budget.drive_available";
  const change = spent
    ? "INSERT INTO ph_drive_budget_state (drive_id) VALUES ($1) ON CONFLICT (drive_id) DO NOTHING RETURNING 1"
    : "DELETE FROM ph_drive_budget_state WHERE drive_id = $1 RETURNING 1";
  const { rows } = await db.query<{ flipped: number; deliveries: number }>(
    `WITH flipped AS (${change}), ${BUDGET_DELIVERIES_QUEUED}`,
    [driveId, event, JSON.stringify(payload)],
  );
  return { flipped: (rows[0]?.flipped ?? 0) > 0, deliveries: rows[0]?.deliveries ?? 0 };
}
